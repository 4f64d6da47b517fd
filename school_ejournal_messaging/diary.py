# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
"""The families' e-diary: its sessions and what its pages show.

The page builders (Diary.*) run inside the request's transaction as the
signed-in parent's or student's own res.user with access checks on: the
record rules of school_ejournal decide what they read.  The query layer's
raw SQL (averages, attendance counts, attendees) is only run for a student
the user was first found to read through the ORM (Diary.family).
"""
import datetime as dt
import hashlib
import hmac
import secrets
from collections import defaultdict

from school_ejournal.mark import weighted_average
from trytond import config
from trytond.cache import Cache
from trytond.model import Index, ModelSQL, Unique, fields
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction

from . import diary_cache

WEEKDAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday',
    'Saturday', 'Sunday']
ATTENDANCE = ['absent', 'ill', 'excused', 'late']
# How far ahead the week page looks for the next school day's homework
HOMEWORK_DAYS = 14


def session_timeout():
    "Seconds an idle e-diary session lives"
    return config.getint('school_diary', 'session_timeout', default=1800)


def session_max_age():
    "Seconds an e-diary session lives at most, however busy"
    return config.getint('school_diary', 'session_max_age', default=8 * 3600)


def _hash(token):
    return hashlib.sha256(token.encode('utf-8')).hexdigest()


class DiarySession(ModelSQL):
    "A signed-in parent's or student's session of the e-diary"
    __name__ = 'school.diary.session'

    user = fields.Many2One(
        'res.user', "User", required=True, ondelete='CASCADE',
        help="The parent or student signed in.")
    key = fields.Char(
        "Key", required=True, strip=False,
        help="The SHA-256 of the session's cookie; the cookie itself is "
        "never stored.")
    csrf = fields.Char(
        "CSRF Token", required=True, strip=False,
        help="The token every form of the session must send back.")
    expires = fields.DateTime(
        "Expires", required=True,
        help="When the session ends unless used before.")
    ends = fields.DateTime(
        "Ends", required=True,
        help="When the session ends however busy it is.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('key_unique', Unique(t, t.key),
                'school_ejournal_messaging.msg_diary_session_user_unique'),
            ]
        cls._sql_indexes.add(Index(t, (t.expires, Index.Range())))

    @classmethod
    def start(cls, user_id):
        "Open a session for the user; return (cookie token, session)"
        token = secrets.token_urlsafe(32)
        now = dt.datetime.now()
        session, = cls.create([{
                    'user': user_id,
                    'key': _hash(token),
                    'csrf': secrets.token_urlsafe(32),
                    'expires': now + dt.timedelta(seconds=session_timeout()),
                    'ends': now + dt.timedelta(seconds=session_max_age()),
                    }])
        return token, session

    @classmethod
    def find(cls, token):
        """Return the live session of the cookie token, extended for another
        idle timeout, or None; an expired session is deleted"""
        if not token:
            return None
        # One query for what every page needs of the session
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.select(table.id, table.user, table.csrf,
                table.expires, table.ends,
                where=table.key == _hash(token), limit=1))
        row = cursor.fetchone()
        if not row:
            return None
        id_, user, csrf, expires, ends = row
        # SQLite may answer strings
        expires, ends = [dt.datetime.fromisoformat(v) if isinstance(v, str)
            else v for v in (expires, ends)]
        session = cls(id_, user=user, csrf=csrf, expires=expires, ends=ends)
        now = dt.datetime.now()
        if expires <= now or ends <= now:
            cls.delete([session])
            return None
        extended = min(now + dt.timedelta(seconds=session_timeout()), ends)
        # Written only when a good part of the timeout has gone
        if (extended - expires).total_seconds() > 60:
            cls.write([session], {'expires': extended})
            session = cls(id_, user=user, csrf=csrf, expires=extended,
                ends=ends)
        return session

    def check_csrf(self, value):
        return bool(value) and hmac.compare_digest(
            self.csrf.encode('utf-8'), value.encode('utf-8'))

    @classmethod
    def end(cls, token):
        "Close the session of the cookie token"
        if token:
            cls.delete(cls.search([('key', '=', _hash(token))]))

    @classmethod
    def clean(cls):
        "Delete the sessions that expired (run by a scheduled action)"
        now = dt.datetime.now()
        cls.delete(cls.search(['OR',
                    ('expires', '<=', now),
                    ('ends', '<=', now),
                    ]))


class User(metaclass=PoolMeta):
    __name__ = 'res.user'

    # The context of a user's preferences, read by every e-diary page
    _diary_context_cache = Cache('school_diary.user_context', context=False)

    @classmethod
    def on_modification(cls, mode, users, field_names=None):
        super().on_modification(mode, users, field_names=field_names)
        cls._diary_context_cache.clear()


class UserEmployee(metaclass=PoolMeta):
    __name__ = 'res.user-company.employee'

    @classmethod
    def on_modification(cls, mode, records, field_names=None):
        super().on_modification(mode, records, field_names=field_names)
        Pool().get('res.user')._diary_context_cache.clear()


class UserCompany(metaclass=PoolMeta):
    __name__ = 'res.user-company.company'

    @classmethod
    def on_modification(cls, mode, records, field_names=None):
        super().on_modification(mode, records, field_names=field_names)
        Pool().get('res.user')._diary_context_cache.clear()


# The names of subjects and task types the week page shows, per language
_names_cache = Cache('school_diary.names', context=False)


def names(model, ids, fields_names):
    """Return {id: (values of fields_names)} of the records of the model,
    read (through the rules) once per language and worker, until the model
    changes (Subject and TaskType below clear it)"""
    key = (model, Transaction().language)
    cached = dict(_names_cache.get(key) or {})
    missing = [i for i in ids if i not in cached]
    if missing:
        Model = Pool().get(model)
        for record in Model.read(missing, fields_names):
            cached[record['id']] = tuple(record[f] for f in fields_names)
        _names_cache.set(key, cached)
    return {i: cached[i] for i in ids}


class Subject(metaclass=PoolMeta):
    __name__ = 'school.subject'

    @classmethod
    def on_modification(cls, mode, records, field_names=None):
        super().on_modification(mode, records, field_names=field_names)
        _names_cache.clear()


class TaskType(metaclass=PoolMeta):
    __name__ = 'school.task.type'

    @classmethod
    def on_modification(cls, mode, records, field_names=None):
        super().on_modification(mode, records, field_names=field_names)
        _names_cache.clear()


class Cron(metaclass=PoolMeta):
    __name__ = 'ir.cron'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.method.selection.append(
            ('school.diary.session|clean', "Delete Expired E-Diary Sessions"))


class Diary:
    "What the e-diary's pages show, read as the signed-in user"

    @classmethod
    def family(cls):
        """Return the students of the signed-in user: own children for a
        parent, oneself for a student; [] for anyone else"""
        pool = Pool()
        User = pool.get('res.user')
        Student = pool.get('school.student')
        transaction = Transaction()
        key = (transaction.user, transaction.context.get('company'))
        rows = diary_cache.family(key) if diary_cache.enabled() else None
        if rows is None:
            # The scope the core's record rules are made of
            scope = User.get_school_scope()
            ids = set(scope['children']) | set(scope['self_students'])
            # Read again through the rules: only those the user may read;
            # the names the pages show are read with them, once (a
            # student's rec_name is his name)
            rows = [(r['id'], r['first_name'], r['last_name'], r['name'])
                for r in Student.search_read([('id', 'in', list(ids))],
                    order=[('first_name', 'ASC'), ('last_name', 'ASC'),
                        ('id', 'ASC')],
                    fields_names=['first_name', 'last_name', 'name'])]
            if diary_cache.enabled():
                diary_cache.keep_family(key, rows)
        return [Student(id_, first_name=first_name, last_name=last_name,
                rec_name=name)
            for id_, first_name, last_name, name in rows]

    @classmethod
    def student(cls, student_id):
        "Return the student of the family with this id, or None"
        for student in cls.family():
            if student.id == student_id:
                return student
        return None

    @classmethod
    def class_of(cls, student, date=None):
        "Return the class of the student on the date (today by default)"
        pool = Pool()
        Enrolment = pool.get('school.enrolment')
        Date = pool.get('ir.date')
        date = date or Date.today()
        class_id = Enrolment.class_by_student([student.id], date).get(
            student.id)
        if class_id is None:
            # In summer or after leaving: the last class
            enrolments = Enrolment.search([
                    ('student', '=', student.id),
                    ('start_date', '<=', date),
                    ], order=[('start_date', 'DESC')], limit=1)
            if not enrolments:
                enrolments = Enrolment.search([
                        ('student', '=', student.id),
                        ], order=[('start_date', 'ASC')], limit=1)
            if not enrolments:
                return None
            return enrolments[0].class_
        return pool.get('school.class')(class_id)

    @classmethod
    def week(cls, student, day, today):
        """Return (week, due date, homework): the days of the week holding
        day, each with its lessons, and the homework due on the next day the
        student has lessons after today (or, with no lesson planned, the
        first day homework is due), read in a few set-based queries.

        Each table is read through the rule-checked search of the signed-in
        user (ModelSQL.search(query=True) carries the record rules into the
        SQL): lessons, their attendance line and marks, for the student of
        the family only."""
        pool = Pool()
        Lesson = pool.get('school.lesson')
        Line = pool.get('school.lesson.attendance')
        Mark = pool.get('school.mark')
        Bell = pool.get('school.bell')
        cursor = Transaction().connection.cursor()
        monday = day - dt.timedelta(days=day.weekday())
        sunday = monday + dt.timedelta(days=6)
        horizon = today + dt.timedelta(days=HOMEWORK_DAYS)

        # The lessons the rules let the user read: the week's, those of the
        # next days and those with homework due in them
        allowed = Lesson.search([
                ('class_.enrolments.student', '=', student.id),
                ['OR', [
                        ('date', '>=', monday),
                        ('date', '<=', sunday),
                        ], [
                        ('date', '>', today),
                        ('date', '<=', horizon),
                        ], [
                        ('homework_due', '>', today),
                        ('homework_due', '<=', horizon),
                        ]],
                ], order=[], query=True)
        cursor.execute(*allowed)
        ids = [i for i, in cursor]
        lines = Line.search([('student', '=', student.id)], order=[],
            query=True)
        lesson = Lesson.__table__()
        line = Line.__table__()
        bell = Bell.__table__()
        # Of the student's class that day, of the subgroup for a subgroup's
        attendees = Lesson.attendees_query(
            where=lambda lesson: fields.SQL_OPERATORS['in'](lesson.id, ids))
        cursor.execute(*lesson
            .join(attendees, condition=(attendees.lesson == lesson.id)
                & (attendees.student == student.id))
            .join(line, 'LEFT', condition=(line.lesson == lesson.id)
                & (line.student == student.id) & line.id.in_(lines))
            .join(bell, 'LEFT', condition=(bell.company == lesson.company)
                & (bell.number == lesson.number))
            .select(lesson.id, lesson.date, lesson.number, lesson.subject,
                lesson.state, lesson.topic, lesson.homework,
                lesson.homework_due, line.attendance, bell.start,
                order_by=[lesson.date.asc, lesson.number.asc,
                    lesson.id.asc]))
        keys = ['id', 'date', 'number', 'subject', 'state', 'topic',
            'homework', 'homework_due', 'attendance', 'start']
        lessons = [dict(zip(keys, row)) for row in cursor]
        for row in lessons:
            # SQLite answers strings
            for key in ['date', 'homework_due']:
                if isinstance(row[key], str):
                    row[key] = dt.date.fromisoformat(row[key])
            if isinstance(row['start'], str):
                row['start'] = dt.time.fromisoformat(row['start'])
        in_week = [l for l in lessons if monday <= l['date'] <= sunday]

        marks = defaultdict(list)
        if in_week:
            allowed_marks = Mark.search([
                    ('student', '=', student.id),
                    ('lesson', 'in', [l['id'] for l in in_week]),
                    ('cancelled', '=', False),
                    ], order=[], query=True)
            mark = Mark.__table__()
            cursor.execute(*mark.select(mark.lesson, mark.value, mark.type,
                    where=mark.id.in_(allowed_marks),
                    order_by=[mark.task.asc, mark.id.asc]))
            rows = cursor.fetchall()
            types = names('school.task.type', {r[2] for r in rows},
                ['code', 'name'])
            for lesson_id, value, type_id in rows:
                code, name = types[type_id]
                marks[lesson_id].append({
                        'value': value,
                        'type_code': code,
                        'type_name': name,
                        })

        # The homework due on the next day with lessons
        nexts = [l for l in lessons
            if today < l['date'] <= horizon and l['state'] != 'cancelled']
        if nexts:
            due_date = nexts[0]['date']
        else:
            due = [l['homework_due'] for l in lessons
                if l['homework_due'] and today < l['homework_due'] <= horizon]
            due_date = min(due) if due else None
        homework = [l for l in lessons
            if due_date and l['homework_due'] == due_date
            and l['homework'] not in (None, '')]

        # A subject's rec_name is its (translated) name
        subjects = {i: n for i, (n,) in names('school.subject',
                {l['subject'] for l in in_week + homework}, ['name']).items()}
        days = []
        for offset in range(7):
            date = monday + dt.timedelta(days=offset)
            rows = [{
                    'number': l['number'],
                    'time': (l['start'].strftime('%H:%M')
                        if l['start'] else None),
                    'subject': subjects[l['subject']],
                    'state': l['state'],
                    'topic': l['topic'],
                    'homework': l['homework'],
                    'homework_due': l['homework_due'],
                    'marks': marks.get(l['id'], []),
                    'attendance': l['attendance'],
                    } for l in in_week if l['date'] == date]
            if rows or offset < 5:
                days.append({
                        'date': date,
                        'weekday': WEEKDAYS[offset],
                        'lessons': rows,
                        })
        week = {
            'monday': monday,
            'sunday': sunday,
            'days': days,
            'previous': monday - dt.timedelta(days=7),
            'next': monday + dt.timedelta(days=7),
            }
        return week, due_date, [{
                'subject': subjects[l['subject']],
                'homework': l['homework'],
                'given': l['date'],
                } for l in homework]

    @classmethod
    def periods(cls, student):
        """Return (periods of the student's class, current period)"""
        pool = Pool()
        Period = pool.get('school.period')
        Date = pool.get('ir.date')
        class_ = cls.class_of(student)
        if not class_:
            return [], None
        periods = Period.search([
                ('year', '=', class_.year.id),
                ('kind', '=', class_.level.period_kind),
                ], order=[('sequence', 'ASC')])
        current = Period.last_started(
            class_.year, class_.level, Date.today())
        return periods, current

    @classmethod
    def marks(cls, student, period):
        """Return the subjects with the student's marks of the period, the
        weighted average and its trend (running average after each task)"""
        pool = Pool()
        Mark = pool.get('school.mark')
        cursor = Transaction().connection.cursor()
        marks = Mark.search([
                ('student', '=', student.id),
                ('lesson.period', '=', period.id),
                ('cancelled', '=', False),
                ], order=[('date', 'ASC'), ('task', 'ASC'), ('id', 'ASC')])
        subjects = {}
        for mark in marks:
            subject = mark.lesson.subject
            entry = subjects.setdefault(subject.id, {
                    'subject': subject.rec_name,
                    'marks': [],
                    'average': None,
                    'count': 0,
                    'trend': [],
                    })
            entry['marks'].append({
                    'value': mark.value,
                    'date': mark.date,
                    'type_code': mark.type.code,
                    'type_name': mark.type.name,
                    'weight': mark.type.weight,
                    })
        # The averages and their trend from the query layer, for a student
        # the user was found to read above
        sums = defaultdict(list)
        cursor.execute(*Mark.average_query(
                where=lambda mark, lesson: (mark.student == student.id)
                & (lesson.period == period.id),
                group_by=('subject', 'date', 'task')))
        for subject_id, date, task, weighted, weights, count in cursor:
            sums[subject_id].append(((str(date), task), weighted, weights,
                    count))
        for subject_id, rows in sums.items():
            entry = subjects.get(subject_id)
            if entry is None:
                continue
            total_weighted = total_weights = total_count = 0
            for _, weighted, weights, count in sorted(rows):
                total_weighted += weighted
                total_weights += weights
                total_count += count
                entry['trend'].append(
                    weighted_average(total_weighted, total_weights))
            entry['average'] = weighted_average(total_weighted, total_weights)
            entry['count'] = total_count
        result = sorted(subjects.values(), key=lambda e: e['subject'])
        for entry in result:
            entry['chart'] = trend_chart(entry['trend'])
        return result

    @classmethod
    def attendance(cls, student, period):
        """Return the lessons of the period by subject: held, and missed or
        late by reason, with the totals"""
        pool = Pool()
        Line = pool.get('school.lesson.attendance')
        Subject = pool.get('school.subject')
        cursor = Transaction().connection.cursor()
        cursor.execute(*Line.attendance_query(
                where=lambda line, lesson: (line.student == student.id)
                & (lesson.period == period.id),
                group_by=('subject',)))
        counts = defaultdict(lambda: dict.fromkeys(
                ['present', 'held', *ATTENDANCE], 0))
        for subject_id, attendance, count in cursor:
            row = counts[subject_id]
            row['held'] += count
            row[attendance or 'present'] += count
        names = {s.id: s.rec_name for s in Subject.browse(list(counts))}
        rows = sorted(({'subject': names[s], **c} for s, c in counts.items()),
            key=lambda r: r['subject'])
        total = dict.fromkeys(['present', 'held', *ATTENDANCE], 0)
        for row in rows:
            for key in total:
                total[key] += row[key]
        return rows, total

    @classmethod
    def grades(cls, student):
        """Return (periods, rows): each subject's grade of every period of
        the year and its year grade"""
        pool = Pool()
        Grade = pool.get('school.grade')
        periods, _ = cls.periods(student)
        class_ = cls.class_of(student)
        if not class_:
            return [], []
        grades = Grade.search([
                ('student', '=', student.id),
                ('class_.year', '=', class_.year.id),
                ])
        rows = {}
        for grade in grades:
            row = rows.setdefault(grade.subject.id, {
                    'subject': grade.subject.rec_name,
                    'periods': {},
                    'year': None,
                    })
            if grade.period:
                row['periods'][grade.period.id] = grade.value
            else:
                row['year'] = grade.value
        return periods, sorted(rows.values(), key=lambda r: r['subject'])


def trend_chart(values, width=120, height=32, pad=3):
    """Return the points of a sparkline of marks averages (1 to 5) as
    [(x, y)] in a width × height box, or None for fewer than two"""
    values = [float(v) for v in values if v is not None]
    if len(values) < 2:
        return None
    step = (width - 2 * pad) / (len(values) - 1)
    points = []
    for i, value in enumerate(values):
        y = pad + (5 - min(max(value, 1), 5)) / 4 * (height - 2 * pad)
        points.append((round(pad + i * step, 1), round(y, 1)))
    return {
        'width': width,
        'height': height,
        'points': ' '.join('%s,%s' % p for p in points),
        'last': points[-1],
        }
