# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
"""The teacher's class journal grid: students × lessons in one page.

The page (grid.html, static/grid.js) is served by the routes at the end of
this file and calls the normal JSON-RPC endpoint with the staff user's own
web-client session (the ``tryton_session`` cookie of the database's path),
so every read and write below runs as that user with access checks on: the
record rules and the lesson's, line's and mark's checks decide everything.

- ``school.lesson.grid_data(teaching, period)``: the whole grid in one call,
  read with one set-based query per table through the core's query layer;
- ``school.lesson.grid_save(lesson, changes)``: one lesson's batch of cells
  (and its topic, homework, new tasks, holding) in one transaction through
  the lesson's own write, refused when the lesson changed since the page
  read it (Tryton's ``_timestamp`` of the lesson).

Over RPC both answer their data as one JSON text (``grid_json``), which the
page parses: trytond encodes an answer token by token in pure Python (about
9,000 tokens for 30 students × 40 lessons, a third of the load's time),
the text is encoded at once by the json module's C encoder.  Called in
Python (the printable page) they return the data itself.
"""
import json
import mimetypes
import os
from collections import defaultdict
from urllib.parse import quote, urlencode

from genshi.template import MarkupTemplate
from sql import Literal, Null
from sql.conditionals import Coalesce
from sql.functions import CurrentTimestamp, Extract

from trytond import backend
from trytond.i18n import gettext
from trytond.model import ModelView, fields
from trytond.model.exceptions import AccessError
from trytond.pool import Pool, PoolMeta
from trytond.protocols.wrappers import HTTPStatus, Response, with_pool
from trytond.rpc import RPC
from trytond.tools import grouped_slice, sqlite_apply_types
from trytond.transaction import Transaction, without_check_access
from trytond.wsgi import app

from .common import ATTENDANCE, MARKS, user_in
from .exceptions import LessonError
from .mark import weighted_average

HERE = os.path.dirname(os.path.abspath(__file__))
STATIC = os.path.join(HERE, 'static')
STATIC_FILES = {'grid.js', 'grid.css'}
STAFF = ('school_admin', 'deputy_academic', 'deputy_pastoral',
    'class_teacher', 'teacher')
ATTENDANCE_VALUES = {v for v, _ in ATTENDANCE if v}
MARK_VALUES = {v for v, _ in MARKS if v}
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; "
    "connect-src 'self'; img-src 'self'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'")


def grid_path(database, teaching=None, period=None):
    "Return the address of the grid of the teaching and period"
    path = '/%s/school/grid' % quote(database)
    query = {k: v for k, v in [('teaching', teaching), ('period', period)]
        if v}
    if query:
        path += '?' + urlencode(query)
    return path


def check_staff():
    "Refuse the grid to anybody but the school's staff"
    if not user_in(*STAFF):
        raise AccessError(gettext('school_ejournal.msg_grid_staff_only'))


def grid_json(data):
    "Return the grid's data as the JSON text the page parses"
    return json.dumps(data, separators=(',', ':'), ensure_ascii=False)


def _date(value):
    return value.isoformat() if value else None


def _number(value):
    return float(value) if value is not None else None


class Action(metaclass=PoolMeta):
    __name__ = 'ir.action'

    @classmethod
    def get_action_values(cls, type_, action_ids, columns=None):
        values = super().get_action_values(
            type_, action_ids, columns=columns)
        if type_ == 'ir.action.url':
            # The grid lives under the database's path, where the web
            # client's session cookie is sent
            database = quote(Transaction().database.name)
            for value in values:
                if value.get('url') and '{database}' in value['url']:
                    value['url'] = value['url'].replace(
                        '{database}', database)
        return values


class Teaching(metaclass=PoolMeta):
    __name__ = 'school.teaching'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._buttons.update({
                'open_grid': {},
                })

    @classmethod
    @ModelView.button_action('school_ejournal.act_grid')
    def open_grid(cls, teachings):
        "Open the class journal grid of the teaching"
        check_staff()
        if not teachings:
            return
        teaching = teachings[0]
        return {'url': grid_path(
                Transaction().database.name, teaching=teaching.id)}


class Lesson(metaclass=PoolMeta):
    __name__ = 'school.lesson'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__rpc__.update({
                'grid_data': RPC(result=grid_json),
                'grid_save': RPC(readonly=False, result=grid_json),
                })
        cls._buttons.update({
                'open_grid': {},
                })

    @classmethod
    @ModelView.button_action('school_ejournal.act_grid')
    def open_grid(cls, lessons):
        "Open the class journal grid at the lesson's period"
        check_staff()
        if not lessons:
            return
        lesson = lessons[0]
        return {'url': grid_path(Transaction().database.name,
                teaching=lesson.teaching.id, period=lesson.period.id)}

    @classmethod
    def grid_data(cls, teaching_id, period_id=None):
        """Return the grid of the teaching for the study period (the last
        started one by default): its lessons with their tasks, the
        students with the lessons they belong to, attendance, marks,
        weighted averages and term grades"""
        pool = Pool()
        Teaching = pool.get('school.teaching')
        Period = pool.get('school.period')
        Date = pool.get('ir.date')
        Year = pool.get('school.year')
        Level = pool.get('school.level')
        check_staff()
        # Found through the model (its search's query: the access check and
        # the record rules decide what is seen) and what the grid shows of
        # it read with the same query; its class's periods with one more
        # (its class's and teacher's names as their forms show them); the
        # translated names through the models
        teaching = cls._grid_teaching(Teaching.search(
                [('id', '=', int(teaching_id))], query=True))
        if not teaching:
            raise AccessError(gettext(
                    'school_ejournal.msg_grid_no_teaching', id=teaching_id))
        today = Date.today()
        periods = cls._grid_periods(teaching['year'], teaching['period_kind'])
        if not period_id:
            period = Period.last_started(Year(teaching['year']),
                Level(teaching['level'], period_kind=teaching['period_kind']),
                today)
            period_id = period.id if period else None
        period = next(
            (p for p in periods if p['id'] == int(period_id or 0)), None)
        if not period:
            raise AccessError(gettext(
                    'school_ejournal.msg_grid_no_period',
                    teaching=Teaching(teaching['id']).rec_name))
        # The ids only (the search's query, with the record rules): the
        # columns are read below with one query per table
        cursor = Transaction().connection.cursor()
        cursor.execute(*cls.search([
                    ('teaching', '=', teaching['id']),
                    ('period', '=', period['id']),
                    ('state', '!=', 'cancelled'),
                    ], order=[('date', 'ASC'), ('number', 'ASC'),
                    ('id', 'ASC')], query=True))
        data = cls._grid_columns([i for i, in cursor.fetchall()])
        students = set()
        for members in data['members'].values():
            students.update(members)
        students.update(cls._grid_enrolled(
                teaching['class'], teaching['subgroup'], period, today))
        data['students'] = cls._grid_students(students)
        data['stats'] = cls._grid_stats(
            teaching['id'], period['id'], students)
        data.update({
                'teaching': {
                    'id': teaching['id'],
                    'name': teaching['name'],
                    'teacher': teaching['teacher'],
                    'scale': teaching['scale'],
                    'marks': teaching['marks'],
                    },
                'period': {
                    'id': period['id'], 'name': period['rec_name'],
                    'start': _date(period['start_date']),
                    'end': _date(period['end_date']),
                    'state': period['state'],
                    },
                'periods': [{'id': p['id'], 'name': p['rec_name']}
                    for p in periods],
                'types': [{
                        'id': t['id'], 'code': t['code'], 'name': t['name'],
                        'weight': _number(t['weight']),
                        } for t in cls._grid_types()],
                'today': _date(today),
                })
        return data

    @classmethod
    def _grid_teaching(cls, found):
        """Return what the grid shows of the teaching that the search's
        query found (under the access check and the record rules) with
        one query, or None; the subject's translated name through the
        model"""
        pool = Pool()
        Teaching = pool.get('school.teaching')
        Class = pool.get('school.class')
        Level = pool.get('school.level')
        Subject = pool.get('school.subject')
        Subgroup = pool.get('school.subgroup')
        Employee = pool.get('company.employee')
        Party = pool.get('party.party')
        teaching = Teaching.__table__()
        class_ = Class.__table__()
        level = Level.__table__()
        subject = Subject.__table__()
        subgroup = Subgroup.__table__()
        employee = Employee.__table__()
        party = Party.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*teaching
            .join(class_, condition=teaching.class_ == class_.id)
            .join(level, condition=class_.level == level.id)
            .join(subject, condition=teaching.subject == subject.id)
            .join(employee, condition=teaching.teacher == employee.id)
            .join(party, condition=employee.party == party.id)
            .join(subgroup, 'LEFT',
                condition=teaching.subgroup == subgroup.id)
            .select(teaching.id, class_.id, class_.name, class_.year,
                level.id, level.period_kind, level.marks, subject.id,
                subject.scale, subgroup.id, subgroup.name, party.name,
                party.code, where=teaching.id.in_(found)))
        row = cursor.fetchone()
        if not row:
            return
        (teaching_id, class_id, class_name, year, level_id, period_kind, marks,
            subject_id, scale, subgroup_id, subgroup_name, party_name,
            party_code) = row
        # As Subject.rec_name, translated
        with without_check_access():
            subject_name = Subject(subject_id).rec_name
        group = class_name
        if subgroup_id:
            # As Subgroup.rec_name
            group = '%s, %s: %s' % (class_name, subject_name, subgroup_name)
        return {
            'id': teaching_id, 'class': class_id, 'subgroup': subgroup_id,
            'year': year, 'level': level_id, 'period_kind': period_kind,
            'marks': bool(marks), 'scale': scale,
            'name': '%s, %s' % (group, subject_name),
            # As Employee.rec_name (the party's)
            'teacher': party_name or '[%s]' % party_code,
            }

    @classmethod
    def _grid_types(cls):
        """Return the task types' code, name and weight in their order:
        found by the search's query (the access check and the record
        rules), read through the model (the names translated), without
        the search's instances"""
        TaskType = Pool().get('school.task.type')
        cursor = Transaction().connection.cursor()
        cursor.execute(*TaskType.search([], query=True))
        ids = [i for i, in cursor.fetchall()]
        # read does not keep the order of the ids
        types = {t['id']: t for t in TaskType.read(
                ids, ['code', 'name', 'weight'])}
        return [types[i] for i in ids]

    @classmethod
    def _grid_periods(cls, year_id, kind):
        """Return the study periods of the kind in the year (the teaching's,
        found under the record rules) by their start: their dates and
        state with one query, their translated names through the model"""
        pool = Pool()
        Period = pool.get('school.period')
        Year = pool.get('school.year')
        table = Period.__table__()
        year = Year.__table__()
        cursor = Transaction().connection.cursor()
        query = table.join(year, condition=table.year == year.id).select(
            table.id, table.start_date.as_('start_date'),
            table.end_date.as_('end_date'), table.state, year.name,
            where=(table.year == year_id) & (table.kind == kind),
            order_by=[table.start_date.asc, table.id.asc])
        if backend.name == 'sqlite':
            sqlite_apply_types(query, [None, 'DATE', 'DATE'])
        cursor.execute(*query)
        periods = [{'id': i, 'start_date': start, 'end_date': end,
                'state': state, 'year': year_name}
            for i, start, end, state, year_name in cursor.fetchall()]
        with without_check_access():
            names = {p['id']: p['name'] for p in Period.read(
                    [p['id'] for p in periods], ['name'])}
        for period in periods:
            # As Period.rec_name
            period['rec_name'] = '%s %s' % (
                names[period['id']], period.pop('year'))
        return periods

    @classmethod
    def _grid_enrolled(cls, class_id, subgroup_id, period, today):
        """Return the students of the class or subgroup on the period's
        day"""
        pool = Pool()
        Enrolment = pool.get('school.enrolment')
        Member = pool.get('school.subgroup-school.student')
        day = min(max(today, period['start_date']), period['end_date'])
        students = set(Enrolment.students_by_class(
                [class_id], day).get(class_id, []))
        if subgroup_id:
            member = Member.__table__()
            cursor = Transaction().connection.cursor()
            cursor.execute(*member.select(member.student,
                    where=member.subgroup == subgroup_id))
            students &= {s for s, in cursor.fetchall()}
        return students

    @classmethod
    def _grid_students(cls, student_ids):
        """Return [{id, name}] of the students in the journal's order, read
        with one query (the rows come from the lessons' students)"""
        pool = Pool()
        Student = pool.get('school.student')
        ModelAccess = pool.get('ir.model.access')
        ModelAccess.check(Student.__name__, 'read')
        student = Student.__table__()
        cursor = Transaction().connection.cursor()
        rows = []
        for sub_ids in grouped_slice(sorted(student_ids),
                backend.MAX_QUERY_PARAMS):
            cursor.execute(*student.select(student.id, student.last_name,
                    student.first_name, student.middle_name,
                    where=fields.SQL_OPERATORS['in'](
                        student.id, list(sub_ids))))
            rows.extend(cursor)
        rows.sort(key=lambda r: (r[1], r[2], r[3] or '', r[0]))
        return [{'id': i, 'name': Student._full_name(last, first, middle)}
            for i, last, first, middle in rows]

    @classmethod
    def _grid_stats(cls, teaching_id, period_id, student_ids):
        "Return {student id: {average, count, proposed, grade}}"
        pool = Pool()
        Mark = pool.get('school.mark')
        Grade = pool.get('school.grade')
        cursor = Transaction().connection.cursor()
        stats = {s: {'average': None, 'count': 0, 'proposed': None,
                'grade': None} for s in student_ids}
        grade = Grade.__table__()
        for sub_ids in grouped_slice(sorted(stats), backend.MAX_QUERY_PARAMS):
            sub_ids = list(sub_ids)
            cursor.execute(*Mark.average_query(
                    where=lambda mark, lesson: (
                        lesson.teaching == teaching_id)
                    & (lesson.period == period_id)
                    & fields.SQL_OPERATORS['in'](mark.student, sub_ids)))
            for student, weighted, weights, count in cursor.fetchall():
                stats[student]['average'] = _number(
                    weighted_average(weighted, weights))
                stats[student]['count'] = count
            cursor.execute(*grade.select(
                    grade.student, grade.proposed, grade.value,
                    where=(grade.teaching == teaching_id)
                    & (grade.period == period_id)
                    & fields.SQL_OPERATORS['in'](grade.student, sub_ids)))
            for student, proposed, value in cursor.fetchall():
                stats[student]['proposed'] = proposed
                stats[student]['grade'] = value
        return {str(k): v for k, v in stats.items()}

    @classmethod
    def _grid_columns(cls, lessons):
        """Return the columns of the lessons: their heads and tasks, who
        belongs to each, attendance and the marks not cancelled"""
        pool = Pool()
        Line = pool.get('school.lesson.attendance')
        Task = pool.get('school.lesson.task')
        TaskType = pool.get('school.task.type')
        Mark = pool.get('school.mark')
        ModelAccess = pool.get('ir.model.access')
        cursor = Transaction().connection.cursor()
        for model in [Line, Task, Mark]:
            ModelAccess.check(model.__name__, 'read')
        ids = [int(l) for l in lessons]
        heads = cls._grid_heads(ids)
        members = {i: [] for i in ids}
        attendance = {i: {} for i in ids}
        tasks = {i: [] for i in ids}
        marks = {}
        task = Task.__table__()
        type_ = TaskType.__table__()
        line = Line.__table__()
        mark = Mark.__table__()
        # trytond 8 slices by one without a size
        for sub_ids in grouped_slice(ids, backend.MAX_QUERY_PARAMS):
            sub_ids = list(sub_ids)
            cursor.execute(*cls.attendees_query(
                    lambda lesson: fields.SQL_OPERATORS['in'](
                        lesson.id, sub_ids)))
            for lesson_id, student_id in cursor.fetchall():
                members[lesson_id].append(student_id)
            # Present is the default: only the absences and latenesses
            cursor.execute(*line.select(
                    line.lesson, line.student, line.attendance,
                    where=fields.SQL_OPERATORS['in'](line.lesson, sub_ids)
                    & (line.attendance != Null)))
            for lesson_id, student_id, status in cursor.fetchall():
                attendance[lesson_id][str(student_id)] = status
            cursor.execute(*task
                .join(type_, condition=task.type == type_.id)
                .select(task.lesson, task.id, type_.id, type_.code,
                    type_.name, type_.weight, type_.check_days,
                    task.description,
                    where=fields.SQL_OPERATORS['in'](task.lesson, sub_ids),
                    order_by=[task.lesson, task.sequence.asc.nulls_first,
                        task.id]))
            for (lesson_id, task_id, type_id, code, name, weight, days,
                    description) in cursor.fetchall():
                tasks[lesson_id].append({
                        'id': task_id, 'type': type_id, 'code': code,
                        'name': name, 'weight': _number(weight),
                        'check_days': days,
                        'description': description or '',
                        })
                marks[str(task_id)] = {}
            cursor.execute(*mark.select(
                    mark.task, mark.student, mark.id, mark.value,
                    where=fields.SQL_OPERATORS['in'](mark.lesson, sub_ids)
                    & (mark.cancelled == Literal(False))))
            for task_id, student_id, mark_id, value in cursor.fetchall():
                marks.setdefault(str(task_id), {})[str(student_id)] = [
                    mark_id, value]
        columns = []
        for head in heads:
            head['tasks'] = tasks[head['id']]
            columns.append(head)
        return {
            'lessons': columns,
            'members': {str(k): sorted(v) for k, v in members.items()},
            'attendance': {str(k): v for k, v in attendance.items()},
            'marks': marks,
            }

    @classmethod
    def _timestamp_column(cls, table):
        "The lesson's ``_timestamp`` as trytond's read and write compute it"
        return Extract('EPOCH', Coalesce(table.write_date, table.create_date)
            ).cast(fields.Char('timestamp').sql_type().base)

    @classmethod
    def _grid_heads(cls, ids):
        """Return the column heads of the lessons (found by a search, so
        under the record rules) in the journal's order, read with one
        query per table; mine: the user teaches or substitutes"""
        pool = Pool()
        Substitution = pool.get('school.substitution')
        User = pool.get('res.user')
        cursor = Transaction().connection.cursor()
        lesson = cls.__table__()
        substitution = Substitution.__table__()
        employees = set(User.get_employees())
        heads = []
        in_ = fields.SQL_OPERATORS['in']
        # Substituted by the user, in the same query
        substituted = in_(lesson.id, substitution.select(substitution.lesson,
                where=in_(substitution.substitute, list(employees) or [-1])))
        for sub_ids in grouped_slice(ids, backend.MAX_QUERY_PARAMS):
            sub_ids = list(sub_ids)
            query = lesson.select(lesson.id, lesson.date.as_('date'),
                lesson.number, lesson.state, lesson.topic, lesson.homework,
                lesson.teacher, cls._timestamp_column(lesson), substituted,
                where=in_(lesson.id, sub_ids))
            if backend.name == 'sqlite':
                sqlite_apply_types(query, [None, 'DATE'])
            cursor.execute(*query)
            for (id_, date, number, state, topic, homework, teacher,
                    timestamp, substitute) in cursor.fetchall():
                heads.append({
                        'id': id_, 'date': _date(date), 'number': number,
                        'state': state, 'topic': topic or '',
                        'homework': homework or '',
                        'timestamp': timestamp,
                        'mine': teacher in employees or bool(substitute),
                        })
        heads.sort(key=lambda h: (h['date'], h['number'], h['id']))
        return heads

    @classmethod
    def grid_save(cls, lesson_id, changes):
        """Save a batch of the grid for one lesson in one transaction and
        return the lesson's column as the grid reads it when its head or
        tasks changed, else only the cells saved (``partial``).

        changes: {'hold': bool, 'topic': str, 'homework': str,
        'tasks': [{'type': id, 'description': str}],
        'attendance': [[student id, value or null]],
        'marks': [[task id, student id, value]]}; the lesson's timestamp as
        the page read it goes in the context's ``_timestamp``."""
        pool = Pool()
        Mark = pool.get('school.mark')
        Line = pool.get('school.lesson.attendance')
        check_staff()
        lessons = cls.search([('id', '=', int(lesson_id))])
        if not lessons:
            raise AccessError(gettext(
                    'school_ejournal.msg_grid_no_lesson', id=lesson_id))
        lesson, = lessons
        lesson_id = lesson.id
        # Read by the search (its cache), not again after the write
        teaching_id, period_id = lesson.teaching.id, lesson.period.id
        cls._grid_check_timestamp(lesson)
        if changes.get('hold') and lesson.state == 'planned':
            cls.hold([lesson])
        values = {}
        for name in ['topic', 'homework']:
            if name in changes:
                values[name] = changes[name] or None
        if changes.get('tasks'):
            values['tasks'] = [('create', [{
                            'type': int(t['type']),
                            'description': t.get('description') or None,
                            } for t in changes['tasks']])]
        attendance = changes.get('attendance') or []
        marks = changes.get('marks') or []
        if values or ((attendance or marks)
                and lesson.id not in cls.taught_ids([lesson])):
            values['lines'] = cls._grid_line_actions(lesson, attendance)
            # Through the lesson's own write: its checks, its filler, its
            # stale-write check and the lines' checks
            cls.write([lesson], values)
        cells_only = not values and bool(attendance or marks)
        if cells_only:
            # Cells only, of a lesson the user teaches or substitutes for:
            # the lesson checked open and not of a later day and filled as
            # its write would do it, then the lines through their own write
            # and its checks and the marks below through theirs (without
            # checking the lesson again)
            cls.check_period_open([lesson])
            cls._grid_fill(lesson)
        with cls._checking_lines([lesson_id] if cells_only else []):
            if cells_only:
                to_write = []
                for action, *args in cls._grid_line_actions(
                        lesson, attendance):
                    if action == 'write':
                        ids, line_values = args
                        to_write.extend([Line.browse(ids), line_values])
                    else:
                        Line.create(
                            [dict(v, lesson=lesson_id) for v in args[0]])
                if to_write:
                    Line.write(*to_write)
            created = []
            if marks:
                created = Mark.create(
                    [cls._grid_mark_values(lesson, m) for m in marks])
        if values.keys() - {'lines'} or changes.get('hold'):
            # The column's head or its tasks changed: the whole column
            result = cls._grid_columns([lesson_id])
            result['lesson'] = result.pop('lessons')[0]
        else:
            # Only cells: what they hold now, not the whole column
            result = cls._grid_cells(lesson_id, attendance, marks, created)
        # Attendance does not change the averages and grades: only the
        # students given marks are read again
        students = {int(s) for _, s, _ in marks}
        if students:
            result['stats'] = cls._grid_stats(
                teaching_id, period_id, students)
        return result

    @classmethod
    def _grid_mark_values(cls, lesson, mark):
        "Return the values of a mark the page sent as [task, student, value]"
        try:
            task_id, student_id, value = mark
            task_id, student_id = int(task_id), int(student_id)
        except (TypeError, ValueError):
            task_id, student_id, value = None, None, mark
        if (task_id is None or not isinstance(value, str)
                or value not in MARK_VALUES):
            raise LessonError(gettext(
                    'school_ejournal.msg_grid_bad_value',
                    value=value, lesson=lesson.rec_name))
        return {'task': task_id, 'student': student_id, 'value': value}

    @classmethod
    def _grid_cells(cls, lesson_id, attendance, marks, created):
        """Return the cells a batch saved (the values written, the marks
        created with their ids) and the lesson's new timestamp: the page
        merges them into its column (``partial``)"""
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.select(cls._timestamp_column(table),
                where=table.id == lesson_id))
        timestamp, = cursor.fetchone()
        cells = {str(int(s)): v or None for s, v in attendance}
        saved = {}
        for (task_id, student_id, value), mark in zip(marks, created):
            saved.setdefault(str(int(task_id)), {})[str(int(student_id))] = [
                mark.id, value]
        return {
            'partial': True,
            'lesson': {'id': lesson_id, 'timestamp': timestamp},
            'attendance': {str(lesson_id): cells} if cells else {},
            'marks': saved,
            }

    @classmethod
    def _grid_check_timestamp(cls, lesson):
        """Refuse the batch when the lesson changed since the page read it,
        naming the lesson: Tryton's check in write(), the same query, is
        not made again (the timestamp is taken out as it does)"""
        timestamp = (Transaction().timestamp or {}).pop(
            '%s,%s' % (cls.__name__, lesson.id), None)
        if timestamp is None:
            return
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.select(cls._timestamp_column(table),
                where=table.id == lesson.id))
        current, = cursor.fetchone()
        if current != timestamp:
            raise LessonError(gettext(
                    'school_ejournal.msg_grid_stale',
                    lesson=lesson.rec_name))

    @classmethod
    def _grid_fill(cls, lesson):
        """Stamp the lesson filled by the user now and move its timestamp,
        as its write does when its lines are written (one UPDATE, which
        also holds the lesson's row until the batch commits, so that two
        batches of one lesson are made one after the other and the later
        one is refused as stale); refuse a lesson of a later day"""
        pool = Pool()
        Date = pool.get('ir.date')
        if lesson.date > Date.today():
            raise LessonError(gettext(
                    'school_ejournal.msg_lesson_future',
                    lesson=lesson.rec_name))
        transaction = Transaction()
        table = cls.__table__()
        values = cls.preprocess_values('write', {'lines': []})
        transaction.connection.cursor().execute(*table.update(
                [table.filled_at, table.filled_by,
                    table.write_uid, table.write_date],
                [values['filled_at'], values['filled_by'],
                    transaction.user, CurrentTimestamp()],
                where=table.id == lesson.id))

    @classmethod
    def _grid_line_actions(cls, lesson, attendance):
        "Return the One2Many actions of the lesson's lines for attendance"
        pool = Pool()
        Line = pool.get('school.lesson.attendance')
        if not attendance:
            return []
        line = Line.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*line.select(line.student, line.id, line.attendance,
                where=line.lesson == lesson.id))
        line_of = {s: (i, a) for s, i, a in cursor}
        by_value = defaultdict(list)
        to_create = []
        for cell in attendance:
            try:
                student_id, value = cell
                student_id = int(student_id)
            except (TypeError, ValueError):
                student_id, value = None, cell
            value = value or None
            if student_id is None or (value is not None and (
                        not isinstance(value, str)
                        or value not in ATTENDANCE_VALUES)):
                raise LessonError(gettext(
                        'school_ejournal.msg_grid_bad_value',
                        value=value, lesson=lesson.rec_name))
            if student_id in line_of:
                line_id, current = line_of[student_id]
                # A cell sent as it is stays as it is: no write, no history
                if value != current:
                    by_value[value].append(line_id)
            else:
                to_create.append({
                        'student': student_id, 'attendance': value})
        actions = [('write', ids, {'attendance': value})
            for value, ids in by_value.items()]
        if to_create:
            actions.append(('create', to_create))
        return actions


# The page

def _template():
    with open(os.path.join(HERE, 'grid.html'), encoding='utf-8') as file:
        return MarkupTemplate(file, filepath='grid.html')


def _page(status, database, message=None):
    html = _template().generate(
        database=database, message=message).render('html', doctype='html5')
    return _harden(Response(html, status=status,
            content_type='text/html; charset=utf-8'))


def _harden(response):
    response.headers['Content-Security-Policy'] = CSP
    response.headers['X-Content-Type-Options'] = 'nosniff'
    response.headers['X-Frame-Options'] = 'DENY'
    response.headers['Referrer-Policy'] = 'same-origin'
    response.headers['Cache-Control'] = 'no-store'
    return response


@app.route('/<database_name>/school/grid', methods={'GET'})
@with_pool
def grid_page(request, pool):
    """The grid's page: to the web client's signed-in staff only (its
    session cookie); the data comes through JSON-RPC with that session"""
    database_name = pool.database_name
    user_id = request.user_id if request.session else None
    if not user_id:
        return _page(HTTPStatus.UNAUTHORIZED, database_name,
            message='unauthorized')
    with Transaction().start(database_name, user_id, readonly=True):
        staff = user_in(*STAFF)
    if not staff:
        return _page(HTTPStatus.FORBIDDEN, database_name,
            message='forbidden')
    return _page(HTTPStatus.OK, database_name)


@app.route('/<database_name>/school/grid/<name>', methods={'GET'})
def grid_static(request, database_name, name):
    "The page's script and style sheet"
    if name not in STATIC_FILES:
        return Response('', status=HTTPStatus.NOT_FOUND)
    with open(os.path.join(STATIC, name), 'rb') as file:
        content = file.read()
    content_type, _ = mimetypes.guess_type(name)
    response = Response(content, status=HTTPStatus.OK,
        content_type='%s; charset=utf-8' % content_type)
    response.headers['X-Content-Type-Options'] = 'nosniff'
    response.headers['Cache-Control'] = 'no-cache'
    return response


__all__ = ['Action', 'Teaching', 'Lesson', 'grid_page', 'grid_static']
