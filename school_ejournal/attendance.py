# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
from sql.aggregate import Count

from trytond.backend import MAX_QUERY_PARAMS
from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, Unique, fields
from trytond.model.exceptions import AccessError
from trytond.pool import Pool
from trytond.tools import grouped_slice
from trytond.transaction import Transaction

from .common import (
    ABSENCE_REASONS, ATTENDANCE, MARKS, ClosedFieldsMixin, rename_model,
    user_in)
from .exceptions import LessonError
from .validation import ValidationMixin


class LessonAttendance(
        ValidationMixin, ClosedFieldsMixin, ModelSQL, ModelView):
    "A student at a lesson: attendance and marks"
    __name__ = 'school.lesson.attendance'
    _fixed_fields = frozenset({'lesson', 'student'})
    # Every version is kept in the history table, which serves as the audit
    # trail instead of one ir.model.log row per line and save
    _history = True
    _log = False

    lesson = fields.Many2One(
        'school.lesson', "Lesson", required=True, ondelete='CASCADE',
        readonly=True)
    student = fields.Many2One(
        'school.student', "Student", required=True, readonly=True)
    attendance = fields.Selection(
        ATTENDANCE, "Attendance", sort=False,
        help="Empty: present. Н: absent, Б: ill, УП: excused, ОП: late.")
    mark = fields.Function(
        fields.Selection(MARKS, "Mark 1", sort=False,
            help="The mark for the lesson's task of mark column 1."),
        'get_marks', setter='set_marks')
    mark_2 = fields.Function(
        fields.Selection(MARKS, "Mark 2", sort=False,
            help="The mark for the lesson's task of mark column 2."),
        'get_marks', setter='set_marks')
    mark_3 = fields.Function(
        fields.Selection(MARKS, "Mark 3", sort=False,
            help="The mark for the lesson's task of mark column 3."),
        'get_marks', setter='set_marks')
    date = fields.Function(fields.Date("Date"), 'get_lesson_field',
        searcher='search_lesson_field')
    class_ = fields.Function(
        fields.Many2One('school.class', "Class"), 'get_lesson_field',
        searcher='search_lesson_field')

    @classmethod
    def __register__(cls, module):
        # Migration from 8.0.0: renamed from school.lesson.line
        rename_model(cls, 'school.lesson.line')
        super().__register__(module)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('student_unique', Unique(t, t.lesson, t.student),
                'school_ejournal.msg_lesson_line_unique'),
            ]
        cls._sql_indexes.add(Index(t, (t.student, Index.Equality())))
        cls._order = [('lesson', 'ASC'), ('student.last_name', 'ASC'),
            ('student.first_name', 'ASC'), ('id', 'ASC')]

    def get_lesson_field(self, name):
        value = getattr(self.lesson, name)
        return value.id if isinstance(value, ModelSQL) else value

    @classmethod
    def search_lesson_field(cls, name, clause):
        return [('lesson.' + clause[0], *clause[1:])]

    @classmethod
    def attendance_query(cls, where=None, group_by=('student',)):
        """Return the SQL query of (*group_by, attendance, count): the lines
        of held lessons counted by attendance (None: present).  group_by
        names columns of the line (student, lesson) or of its lesson
        (teaching, class_, subject, period, date); where is a function of
        (line, lesson) tables returning a condition."""
        pool = Pool()
        Lesson = pool.get('school.lesson')
        line = cls.__table__()
        lesson = Lesson.__table__()
        columns = [
            getattr(line if name in {'student', 'lesson'} else lesson, name)
            for name in group_by]
        condition = lesson.state == 'held'
        if where is not None:
            condition &= where(line, lesson)
        return (line
            .join(lesson, condition=line.lesson == lesson.id)
            .select(
                *(c.as_(n) for c, n in zip(columns, group_by)),
                line.attendance.as_('attendance'),
                Count(line.id).as_('count'),
                where=condition,
                group_by=[*columns, line.attendance]))

    def get_rec_name(self, name):
        return '%s — %s' % (self.lesson.rec_name, self.student.rec_name)

    _mark_fields = ['mark', 'mark_2', 'mark_3']

    @classmethod
    def get_marks(cls, lines, names):
        pool = Pool()
        Mark = pool.get('school.mark')
        result = {n: {l.id: None for l in lines} for n in names}
        tasks = {}
        for line in lines:
            tasks[line.lesson.id] = {
                t.mark_column: t.id for t in line.lesson.tasks}
        by_key = {}
        for mark in Mark.search([
                    ('lesson', 'in', list(tasks)),
                    ('cancelled', '=', False),
                    ], order=[]):
            by_key[(mark.task.id, mark.student.id)] = mark.value
        for line in lines:
            for index, name in enumerate(cls._mark_fields):
                if name not in names:
                    continue
                task = tasks[line.lesson.id].get(index + 1)
                if task:
                    result[name][line.id] = by_key.get(
                        (task, line.student.id))
        return result

    @classmethod
    def set_marks(cls, lines, name, value):
        cls._save_marks([(lines, {name: value})])

    @classmethod
    def write(cls, *args):
        # Marks of all the lines written at once are created with one call
        # and lines given the same values (as attendance) in one update.
        plain, marks = {}, []
        actions = iter(args)
        for index, (lines, values) in enumerate(zip(actions, actions)):
            mark_values = {
                k: v for k, v in values.items() if k in cls._mark_fields}
            other = {
                k: v for k, v in values.items() if k not in cls._mark_fields}
            # Every line goes through ModelSQL.write, even for its marks
            # only: the model access, the record rules and the timestamp
            # are checked there
            try:
                key = tuple(sorted(other.items()))
                hash(key)
            except TypeError:
                key = index
            plain.setdefault(key, ([], other))[0].extend(lines)
            if mark_values:
                marks.append((lines, mark_values))
        super().write(*(
                x for lines, values in plain.values()
                for x in (lines, values)))
        if marks:
            cls._save_marks(marks)

    @classmethod
    def _lesson_of(cls, lines):
        "Return {line id: lesson id} with one query"
        line = cls.__table__()
        cursor = Transaction().connection.cursor()
        lesson_of = {}
        for sub_ids in grouped_slice([l.id for l in lines], MAX_QUERY_PARAMS):
            cursor.execute(*line.select(line.id, line.lesson,
                    where=fields.SQL_OPERATORS['in'](line.id, sub_ids)))
            lesson_of.update(cursor)
        return lesson_of

    @classmethod
    def _save_marks(cls, changes):
        "Create the marks of [(lines, {mark field: value})] in one call"
        pool = Pool()
        Mark = pool.get('school.mark')
        Lesson = pool.get('school.lesson')
        lesson_of = cls._lesson_of([l for lines, _ in changes for l in lines])
        lesson_ids = list(set(lesson_of.values()))
        lessons = {l.id: l for l in Lesson.browse(lesson_ids)}
        existing = {}
        for mark in Mark.search([
                    ('lesson', 'in', lesson_ids),
                    ('cancelled', '=', False),
                    ], order=[]):
            existing[(mark.task.id, mark.student.id)] = mark
        to_create = []
        for lines, values in changes:
            for name, value in values.items():
                index = cls._mark_fields.index(name)
                for line in lines:
                    lesson = lessons[lesson_of[line.id]]
                    task = {t.mark_column: t for t in lesson.tasks}.get(
                        index + 1)
                    if not task:
                        if value:
                            raise LessonError(gettext(
                                    'school_ejournal.msg_mark_without_task',
                                    lesson=lesson.rec_name,
                                    student=line.student.rec_name))
                        continue
                    mark = existing.get((task.id, line.student.id))
                    if mark:
                        if mark.value != value:
                            raise LessonError(gettext(
                                    'school_ejournal.msg_mark_change',
                                    mark=mark.rec_name))
                    elif value:
                        to_create.append({
                                'task': task.id,
                                'student': line.student.id,
                                'value': value,
                                })
        Mark.create(to_create)

    @classmethod
    def check_modification(cls, mode, lines, values=None, external=False):
        pool = Pool()
        Lesson = pool.get('school.lesson')
        super().check_modification(
            mode, lines, values=values, external=external)
        lesson_of = cls._lesson_of(lines)
        # Lessons not read: the checks below query what they need
        lessons = {l.id: l for l in Lesson.browse(
                sorted(set(lesson_of.values())))}
        # Those whose own write (through which the lines are written) has
        # checked the period lock and the teacher: once per lesson
        checked = (Lesson._lines_checked() or set()) & set(lessons)
        Lesson.check_period_open(
            [l for i, l in lessons.items() if i not in checked])
        if mode in {'create', 'write'}:
            cls._check_not_later(set(lessons) - checked)
        if not external:
            return
        if mode in {'create', 'delete'}:
            Lesson.check_filler(
                [l for i, l in lessons.items() if i not in checked])
        elif mode == 'write':
            taught = checked | Lesson.taught_ids(set(lessons) - checked)
            for line in lines:
                if lesson_of[line.id] in taught:
                    continue
                # The class teacher and the deputy only correct the reasons
                # of absences
                if (values.keys() != {'attendance'}
                        or line.attendance not in ABSENCE_REASONS
                        or values['attendance'] not in ABSENCE_REASONS):
                    if user_in('school_admin', 'deputy_academic'):
                        Lesson.check_filler([lessons[lesson_of[line.id]]])
                    raise AccessError(gettext(
                            'school_ejournal.msg_attendance_reason_only',
                            line=line.rec_name))

    @classmethod
    def _check_not_later(cls, lesson_ids):
        """Refuse attendance of a lesson of a later day, as the lesson's
        own write does (one query)"""
        pool = Pool()
        Lesson = pool.get('school.lesson')
        Date = pool.get('ir.date')
        if not lesson_ids:
            return
        lesson = Lesson.__table__()
        cursor = Transaction().connection.cursor()
        today = Date.today()
        for sub_ids in grouped_slice(sorted(lesson_ids), MAX_QUERY_PARAMS):
            cursor.execute(*lesson.select(lesson.id,
                    where=fields.SQL_OPERATORS['in'](lesson.id, list(sub_ids))
                    & (lesson.date > today), limit=1))
            row = cursor.fetchone()
            if row:
                raise LessonError(gettext(
                        'school_ejournal.msg_lesson_future',
                        lesson=Lesson(row[0]).rec_name))

    @classmethod
    def validate_fields(cls, lines, field_names):
        pool = Pool()
        Lesson = pool.get('school.lesson')
        super().validate_fields(lines, field_names)
        if field_names & {'lesson', 'student'}:
            # Attendance is kept for the students of the class or subgroup
            # on the day of the lesson only
            lessons = {l.lesson for l in lines}
            students = Lesson.students_by_lesson(lessons)
            for line in lines:
                lesson = line.lesson
                if line.student.id not in students[lesson.id]:
                    raise LessonError(gettext(
                            'school_ejournal.msg_lesson_line_student',
                            student=line.student.rec_name,
                            lesson=lesson.rec_name,
                            group=(lesson.subgroup or lesson.class_).rec_name))
