#!/usr/bin/env python3
# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
"""Time saving a filled lesson as the web client does it.

    PYTHONOPTIMIZE=1 .venv/bin/python bench/lesson_save.py \\
        [--db-uri sqlite:///FOLDER | --db-uri postgresql://... |
         --private-postgresql [DIR]] [--students 1000] [--runs 50] [--reuse]

A teacher of the largest class (with marks) logs in over JSON-RPC; the
lessons of that class since the demo's day are held with the «hold» button
and given two written tasks (С, ДЗ) beforehand.  Each timed call is one
`model.school.lesson.write` of a fresh held lesson: topic, homework and the
`lines` One2Many writes for all its students (attendance for all, ~7 %
absent; marks through `mark`/`mark_2`, 30 in all).  A lesson is made fresh
again with plain SQL between uses (untimed).  Then the baseline: the same
rows (line updates, the marks, the lesson update) written with plain SQL in
one transaction.  Prints median and p95 of both and their ratio.
"""
import datetime as dt
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (  # noqa: E402
    Client, largest_class, say, start_server, summary)

STATUSES = ['absent', 'ill', 'excused', 'late']
MARKS_PER_LESSON = 30


def main():
    args, database, server, conn, cursor = start_server(
        __doc__.splitlines()[0])
    sql = database.sql
    today = dt.date.today()
    since = today - dt.timedelta(days=6)

    # The largest class with marks, and its whole-class lessons since then
    class_id, class_name, size = largest_class(database, cursor, today)
    cursor.execute(sql('SELECT l.id, l.date, l.number, l.state, l.teacher, '
            'u.id, u.login FROM school_lesson l '
            'JOIN "res_user-company_employee" r ON r.employee = l.teacher '
            'JOIN res_user u ON u.id = r."user" '
            'WHERE l.class_ = %s AND l.subgroup IS NULL '
            'AND l.date >= %s AND l.date <= %s '
            "AND l.state IN ('planned', 'held') "
            'ORDER BY l.date, l.number, l.id'), (class_id, since, today))
    lessons = cursor.fetchall()
    if not lessons:
        raise SystemExit('bench: no lesson of %s since %s: rebuild without '
            '--reuse' % (class_name, since))
    say('class %s: %d students; %d lessons since %s, %d teachers'
        % (class_name, size, len(lessons), since,
            len({l[6] for l in lessons})))
    cursor.execute(sql("SELECT fs_id, db_id FROM ir_model_data "
            "WHERE module = 'school_ejournal' AND fs_id IN (%s, %s)"),
        ('task_type_independent', 'task_type_homework'))
    types = dict(cursor.fetchall())
    conn.commit()

    clients = {}
    for login in sorted({l[6] for l in lessons}):
        clients[login] = Client(server.port, database.name, login)
    by_id = {l[0]: l for l in lessons}

    # Hold them with the button, as the teacher; two written tasks each
    for login, client in clients.items():
        planned = [l[0] for l in lessons if l[6] == login
            and l[3] == 'planned']
        if planned:
            client.call('model.school.lesson.hold', planned, client.context)
    cursor.execute(sql('SELECT lesson, COUNT(*) FROM school_lesson_task '
            'WHERE lesson IN (%s) GROUP BY lesson' % ','.join(
                '%s' for _ in lessons)), [l[0] for l in lessons])
    with_tasks = dict(cursor.fetchall())
    conn.commit()
    for lesson_id, _, _, _, _, _, login in lessons:
        if with_tasks.get(lesson_id, 0) < 2:
            client = clients[login]
            client.call('model.school.lesson.write', [lesson_id], {
                    'tasks': [['create', [
                                {'type': types['task_type_independent'],
                                    'description': 'Самостоятельная работа'},
                                {'type': types['task_type_homework']},
                                ]]],
                    }, client.context)

    # What a teacher fills in: the same for the ORM and for plain SQL
    cursor.execute(sql('SELECT t.lesson, t.id, t.type FROM '
            'school_lesson_task t WHERE t.lesson IN (%s) '
            'ORDER BY t.lesson, t.sequence, t.id' % ','.join(
                '%s' for _ in lessons)), [l[0] for l in lessons])
    tasks = {}
    for lesson_id, task_id, type_id in cursor.fetchall():
        tasks.setdefault(lesson_id, []).append((task_id, type_id))
    cursor.execute(sql('SELECT lesson, id, student, attendance '
            'FROM school_lesson_attendance WHERE lesson IN (%s) '
            'ORDER BY lesson, id' % ','.join('%s' for _ in lessons)),
        [l[0] for l in lessons])
    lines = {}
    for lesson_id, line_id, student, _ in cursor.fetchall():
        lines.setdefault(lesson_id, []).append((line_id, student))
    cursor.execute(sql('SELECT id, topic FROM school_lesson '
            'WHERE id IN (%s)' % ','.join('%s' for _ in lessons)),
        [l[0] for l in lessons])
    topics = dict(cursor.fetchall())
    conn.commit()
    pool = [l[0] for l in lessons if len(lines.get(l[0], [])) >= 2]

    def fill(lesson_id):
        "[(line id, student, attendance, mark, mark_2)] of a lesson"
        rng = random.Random(lesson_id)
        rows = []
        for line_id, student in lines[lesson_id]:
            status = (rng.choice(STATUSES) if rng.random() < 0.07
                else None)
            rows.append([line_id, student, status, None, None])
        present = [r for r in rows if r[2] in {None, 'late'}]
        values = ['5', '4', '4', '3', '5', '4', '3', '2', '4', '5']
        count = 0
        for row in present:
            row[3] = rng.choice(values)
            count += 1
        for row in present:
            if count >= MARKS_PER_LESSON:
                break
            row[4] = rng.choice(values)
            count += 1
        return rows

    def orm_values(lesson_id):
        return {
            'topic': '%s (урок заполнен)' % (topics[lesson_id] or 'Тема'),
            'homework': '§ 12, упр. 145, 146',
            'lines': [['write', [line_id], dict({'attendance': status},
                            **({'mark': mark} if mark else {}),
                            **({'mark_2': mark_2} if mark_2 else {}))]
                for line_id, _, status, mark, mark_2 in fill(lesson_id)],
            }

    def reset(lesson_id):
        "Make the lesson fresh again: as just held, no marks (untimed)"
        cursor.execute(sql('DELETE FROM school_mark WHERE lesson = %s'),
            (lesson_id,))
        cursor.execute(sql('UPDATE school_lesson_attendance '
                'SET attendance = NULL WHERE lesson = %s'), (lesson_id,))
        cursor.execute(sql('UPDATE school_lesson SET topic = %s, '
                'homework = NULL WHERE id = %s'),
            (topics[lesson_id], lesson_id))
        conn.commit()

    def count_marks(lesson_id):
        cursor.execute(sql('SELECT COUNT(*) FROM school_mark '
                'WHERE lesson = %s'), (lesson_id,))
        count, = cursor.fetchone()
        conn.commit()
        return count

    expected = {l: sum(bool(r[3]) + bool(r[4]) for r in fill(l))
        for l in pool}
    say('%d fresh held lessons of %s, %d-%d students, %d-%d marks each; '
        '%d runs (lessons reused after a plain SQL reset)' % (len(pool),
            class_name, min(len(lines[l]) for l in pool),
            max(len(lines[l]) for l in pool), min(expected.values()),
            max(expected.values()), args.runs))
    for lesson_id in pool:
        reset(lesson_id)

    # --- ORM over JSON-RPC ---------------------------------------------
    def orm_run(i):
        lesson_id = pool[i % len(pool)]
        if i >= len(pool):
            reset(lesson_id)
        client = clients[by_id[lesson_id][6]]
        values = orm_values(lesson_id)
        seconds, _ = client.timed('model.school.lesson.write', [lesson_id],
            values, client.context)
        return lesson_id, seconds

    for i in range(args.warmup):
        lesson_id, _ = orm_run(i)
        reset(lesson_id)
    orm = []
    for i in range(args.runs):
        lesson_id, seconds = orm_run(i)
        orm.append(seconds)
        if i == 0 and count_marks(lesson_id) != expected[lesson_id]:
            raise SystemExit('bench: %d marks saved instead of %d'
                % (count_marks(lesson_id), expected[lesson_id]))
    for lesson_id in pool:
        reset(lesson_id)

    # --- plain SQL: the same rows in one transaction --------------------
    update_line = sql('UPDATE school_lesson_attendance SET attendance = %s, '
        'write_uid = %s, write_date = %s WHERE id = %s')
    update_lesson = sql('UPDATE school_lesson SET topic = %s, '
        'homework = %s, filled_at = %s, filled_by = %s, write_uid = %s, '
        'write_date = %s WHERE id = %s')

    def sql_run(i):
        lesson_id = pool[i % len(pool)]
        if i >= len(pool):
            reset(lesson_id)
        _, date, _, _, _, user, _ = by_id[lesson_id]
        rows = fill(lesson_id)
        (task_1, type_1), (task_2, type_2) = tasks[lesson_id][:2]
        values = orm_values(lesson_id)
        start = time.perf_counter()
        now = dt.datetime.utcnow()
        cursor.executemany(update_line, [(status, user, now, line_id)
                for line_id, _, status, _, _ in rows])
        marks = []
        for _, student, _, mark, mark_2 in rows:
            if mark:
                marks.append((user, now, task_1, student, mark, lesson_id,
                        date, type_1, False, False))
            if mark_2:
                marks.append((user, now, task_2, student, mark_2, lesson_id,
                        date, type_2, False, False))
        cursor.execute(sql('INSERT INTO school_mark (create_uid, '
                'create_date, task, student, value, lesson, date, type, '
                'late, cancelled) VALUES ' + ', '.join(
                    ['(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)']
                    * len(marks))), [v for m in marks for v in m])
        cursor.execute(update_lesson, (values['topic'], values['homework'],
                now, user, user, now, lesson_id))
        conn.commit()
        return lesson_id, time.perf_counter() - start

    for i in range(args.warmup):
        lesson_id, _ = sql_run(i)
        reset(lesson_id)
    plain = []
    for i in range(args.runs):
        lesson_id, seconds = sql_run(i)
        plain.append(seconds)
        if i == 0 and count_marks(lesson_id) != expected[lesson_id]:
            raise SystemExit('bench: baseline wrote %d marks'
                % count_marks(lesson_id))
    for lesson_id in pool:
        reset(lesson_id)
    conn.close()

    print()
    print('lesson save, %s, %d students, class %s (%d students)' % (
            database.backend, args.students, class_name, size))
    orm_median, orm_p95 = summary('ORM: lesson.write over JSON-RPC', orm)
    sql_median, sql_p95 = summary('plain SQL, one transaction', plain)
    print('%-34s median %8.1f ×        p95 %8.1f ×' % (
            'ratio ORM / SQL', orm_median / sql_median, orm_p95 / sql_p95))


if __name__ == '__main__':
    main()
