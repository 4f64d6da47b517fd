#!/usr/bin/env python3
# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
"""Time the class journal grid: loading it, saving a cell, saving a lesson.

    PYTHONOPTIMIZE=1 .venv/bin/python bench/grid.py \\
        [--db-uri sqlite:///FOLDER | --db-uri postgresql://... |
         --private-postgresql [DIR]] [--students 1000] [--runs 50] [--reuse]

The teaching: a whole-class subject of the largest class (with marks) and
the study period where it has the most lessons (about 30 students × 40
lessons).  Its teacher logs in over JSON-RPC as the page does and calls:

- grid load: `model.school.lesson.grid_data(teaching, period)`;
- cell save: `grid_save` of one attendance cell of a held lesson, with the
  lesson's `_timestamp` (the page's stale-write check);
- lesson save: `grid_save` of a fresh held lesson's attendance for all its
  students and 30 marks for its two tasks, in one call as the page batches
  what is typed in a row.  A fresh lesson's attendance is empty, so only
  the absences (about 7 %) change; the grid writes no cell sent as it is.
  With --every-line-changes a fresh lesson has every student late, so
  every line is written.

Each against the same reads or writes in plain SQL in one transaction.
Prints median and p95 of each and the ratio.  A lesson is made fresh again
with plain SQL between uses (untimed).
"""
import datetime as dt
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (  # noqa: E402
    Client, largest_class, say, start_server, summary)

MARKS_PER_LESSON = 30
VALUES = ['5', '4', '4', '3', '5', '4', '3', '2', '4', '5']
# The tables the runs rewrite: cleaned before the lesson saves and at the end
VACUUMED = ['school_mark', 'school_lesson_attendance', 'school_lesson',
    'school_lesson_task', 'ir_session']


def ratio(label, orm, plain, load):
    orm_median, orm_p95 = summary(label + ': grid over JSON-RPC', orm)
    sql_median, sql_p95 = summary(label + ': plain SQL', plain)
    print('%-34s median %8.1f ×        p95 %8.1f ×' % (
            'ratio grid / SQL', orm_median / sql_median,
            orm_p95 / sql_p95))
    print('  load average %.2f %.2f %.2f' % load)


def main():
    args, database, server, conn, cursor = start_server(
        __doc__.splitlines()[0], options=lambda p: p.add_argument(
            '--every-line-changes', action='store_true',
            help="a fresh lesson has every student late (not empty), so "
            "the lesson save writes every line"))
    sql = database.sql
    today = dt.date.today()

    class_id, class_name, size = largest_class(database, cursor, today)
    cursor.execute(sql('SELECT l.teaching, l.period, COUNT(*) '
            'FROM school_lesson l '
            'WHERE l.class_ = %s AND l.subgroup IS NULL '
            "AND l.state != 'cancelled' AND l.date <= %s "
            'GROUP BY l.teaching, l.period ORDER BY 3 DESC, 1, 2'),
        (class_id, today))
    teaching_id, period_id, count = cursor.fetchone()
    cursor.execute(sql('SELECT u.login, u.id FROM school_teaching t '
            'JOIN "res_user-company_employee" r ON r.employee = t.teacher '
            'JOIN res_user u ON u.id = r."user" WHERE t.id = %s'),
        (teaching_id,))
    login, user_id = cursor.fetchone()
    cursor.execute(sql("SELECT fs_id, db_id FROM ir_model_data "
            "WHERE module = 'school_ejournal' AND fs_id IN (%s, %s)"),
        ('task_type_independent', 'task_type_homework'))
    types = dict(cursor.fetchall())
    conn.commit()
    # As the page: the browser asks for gzip answers
    client = Client(server.port, database.name, login, compressed=True)
    say('%s: %d students, teaching %s, period %s: %d lessons; teacher %s'
        % (class_name, size, teaching_id, period_id, count, login))

    database.vacuum(conn, VACUUMED)

    # --- grid load ---------------------------------------------------------
    def load():
        return client.timed('model.school.lesson.grid_data', teaching_id,
            period_id, client.context)

    _, data = load()
    say('grid: %d students × %d lessons' % (
            len(data['students']), len(data['lessons'])))
    for _ in range(args.warmup):
        load()
    grid_load = [load()[0] for _ in range(args.runs)]
    loads = {'grid load': os.getloadavg()}

    lesson_ids = [l['id'] for l in data['lessons']]
    marks_in = ','.join('%s' for _ in lesson_ids)

    def sql_load():
        start = time.perf_counter()
        cursor.execute(sql('SELECT id, date, number, state, topic, homework, '
                'write_date FROM school_lesson WHERE teaching = %s AND '
                "period = %s AND state != 'cancelled' ORDER BY date, number"),
            (teaching_id, period_id))
        cursor.fetchall()
        cursor.execute(sql('SELECT lesson, student, attendance FROM '
                'school_lesson_attendance WHERE lesson IN (%s)' % marks_in),
            lesson_ids)
        cursor.fetchall()
        cursor.execute(sql('SELECT t.lesson, t.id, y.code, y.weight FROM '
                'school_lesson_task t JOIN school_task_type y ON '
                'y.id = t.type WHERE t.lesson IN (%s)' % marks_in),
            lesson_ids)
        cursor.fetchall()
        cursor.execute(sql('SELECT task, student, id, value FROM school_mark '
                'WHERE lesson IN (%s) AND NOT cancelled' % marks_in),
            lesson_ids)
        cursor.fetchall()
        cursor.execute(sql('SELECT l.id, e.student FROM school_lesson l '
                'JOIN school_enrolment e ON e.class_ = l.class_ '
                'AND e.start_date <= l.date AND (e.end_date IS NULL OR '
                'e.end_date >= l.date) WHERE l.id IN (%s)' % marks_in),
            lesson_ids)
        cursor.fetchall()
        cursor.execute(sql('SELECT s.id, s.last_name, s.first_name FROM '
                'school_student s JOIN school_enrolment e ON '
                'e.student = s.id WHERE e.class_ = %s'), (class_id,))
        cursor.fetchall()
        conn.commit()
        return time.perf_counter() - start

    plain_load = [sql_load() for _ in range(args.runs)]

    # --- fresh held lessons with two tasks ---------------------------------
    cursor.execute(sql('SELECT id, state FROM school_lesson WHERE '
            'class_ = %s AND subgroup IS NULL AND date <= %s AND '
            "date >= %s AND state != 'cancelled' ORDER BY date, number"),
        (class_id, today, today - dt.timedelta(days=6)))
    recent = cursor.fetchall()
    conn.commit()
    held = {}
    for lesson_id, state in recent:
        try:
            if state == 'planned':
                client.call('model.school.lesson.hold', [lesson_id],
                    client.context)
            held[lesson_id] = True
        except Exception as exception:
            say('lesson %s skipped: %s' % (lesson_id, exception))
    cursor.execute(sql('SELECT l.id, l.teaching FROM school_lesson l '
            'WHERE l.id IN (%s)' % ','.join('%s' for _ in held)),
        list(held))
    pool = [l for l, t in cursor.fetchall() if t == teaching_id] or list(held)
    conn.commit()
    pool = [l for l in pool if l in held]
    if not pool:
        raise SystemExit('bench: no lesson of %s held in the last week'
            % class_name)
    tasks, lines, topics = {}, {}, {}
    for lesson_id in pool:
        cursor.execute(sql('SELECT id, type FROM school_lesson_task '
                'WHERE lesson = %s ORDER BY sequence, id'), (lesson_id,))
        found = cursor.fetchall()
        conn.commit()
        if len(found) < 2:
            _, lesson = client.timed('model.school.lesson.grid_save',
                lesson_id, {'tasks': [
                        {'type': types['task_type_independent']},
                        {'type': types['task_type_homework']}]},
                client.context)
            found = [(t['id'], t['type']) for t in lesson['lesson']['tasks']]
        tasks[lesson_id] = found[:2]
        cursor.execute(sql('SELECT id, student FROM school_lesson_attendance '
                'WHERE lesson = %s ORDER BY id'), (lesson_id,))
        lines[lesson_id] = cursor.fetchall()
        cursor.execute(sql('SELECT topic, date FROM school_lesson '
                'WHERE id = %s'), (lesson_id,))
        topics[lesson_id] = cursor.fetchone()
        conn.commit()

    def timestamp(lesson_id):
        _, result = client.timed('model.school.lesson.read', [lesson_id],
            ['_timestamp'], client.context)
        return {'school.lesson,%s' % lesson_id: result[0]['_timestamp']}

    fresh = 'late' if args.every_line_changes else None

    def reset(lesson_id):
        cursor.execute(sql('DELETE FROM school_mark WHERE lesson = %s'),
            (lesson_id,))
        cursor.execute(sql('UPDATE school_lesson_attendance '
                'SET attendance = %s WHERE lesson = %s'), (fresh, lesson_id))
        conn.commit()

    def batch(lesson_id):
        rng = random.Random(lesson_id)
        attendance, marks = [], []
        (task_1, _), (task_2, _) = tasks[lesson_id]
        students = [s for _, s in lines[lesson_id]]
        for student in students:
            attendance.append([student, 'absent' if rng.random() < 0.07
                    else None])
        present = [s for s, a in attendance if not a]
        for task in [task_1, task_2]:
            for student in present:
                if len(marks) < MARKS_PER_LESSON:
                    marks.append([task, student, rng.choice(VALUES)])
        return {'attendance': attendance, 'marks': marks}

    # --- cell save ---------------------------------------------------------
    cell = []
    lesson_id = pool[0]
    reset(lesson_id)
    student = lines[lesson_id][0][1]
    for i in range(args.warmup + args.runs):
        stamp = timestamp(lesson_id)
        context = dict(client.context, _timestamp=stamp)
        seconds, _ = client.timed('model.school.lesson.grid_save', lesson_id,
            {'attendance': [[student, 'absent' if i % 2 else 'late']]},
            context)
        if i >= args.warmup:
            cell.append(seconds)
    update_line = sql('UPDATE school_lesson_attendance SET attendance = %s, '
        'write_uid = %s, write_date = %s WHERE lesson = %s AND student = %s')
    update_lesson = sql('UPDATE school_lesson SET filled_at = %s, '
        'filled_by = %s, write_uid = %s, write_date = %s WHERE id = %s')

    def sql_cell(i):
        start = time.perf_counter()
        now = dt.datetime.utcnow()
        cursor.execute(update_line, ('absent' if i % 2 else 'late',
                user_id, now, lesson_id, student))
        cursor.execute(update_lesson, (now, user_id, user_id, now, lesson_id))
        conn.commit()
        return time.perf_counter() - start
    plain_cell = [sql_cell(i) for i in range(args.runs)]
    loads['cell save'] = os.getloadavg()

    # --- lesson save -------------------------------------------------------
    database.vacuum(conn, VACUUMED)
    whole = []
    for i in range(args.warmup + args.runs):
        lesson_id = pool[i % len(pool)]
        reset(lesson_id)
        values = batch(lesson_id)
        context = dict(client.context, _timestamp=timestamp(lesson_id))
        seconds, _ = client.timed('model.school.lesson.grid_save', lesson_id,
            values, context)
        if i >= args.warmup:
            whole.append(seconds)

    def sql_lesson(i):
        lesson_id = pool[i % len(pool)]
        reset(lesson_id)
        values = batch(lesson_id)
        date = topics[lesson_id][1]
        types_of = dict(tasks[lesson_id])
        start = time.perf_counter()
        now = dt.datetime.utcnow()
        # As the grid: the lines read, those whose value changes written
        cursor.execute(sql('SELECT student, attendance FROM '
                'school_lesson_attendance WHERE lesson = %s'), (lesson_id,))
        current = dict(cursor.fetchall())
        cursor.executemany(update_line, [(a, user_id, now, lesson_id, s)
                for s, a in values['attendance'] if current.get(s) != a])
        rows = [(user_id, now, t, s, v, lesson_id, date, types_of[t], False,
                False) for t, s, v in values['marks']]
        if rows:
            cursor.execute(sql('INSERT INTO school_mark (create_uid, '
                    'create_date, task, student, value, lesson, date, type, '
                    'late, cancelled) VALUES ' + ', '.join(
                        ['(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)']
                        * len(rows))), [v for r in rows for v in r])
        cursor.execute(update_lesson, (now, user_id, user_id, now, lesson_id))
        conn.commit()
        return time.perf_counter() - start
    plain_whole = [sql_lesson(i) for i in range(args.runs)]
    loads['lesson save'] = os.getloadavg()
    for lesson_id in pool:
        reset(lesson_id)
    client.logout()
    database.vacuum(conn, VACUUMED)
    conn.close()

    print()
    print('class journal grid, %s, %d students, class %s (%d students), '
        '%d × %d' % (database.backend, args.students, class_name, size,
            len(data['students']), len(data['lessons'])))
    ratio('grid load', grid_load, plain_load, loads['grid load'])
    ratio('cell save', cell, plain_cell, loads['cell save'])
    ratio('lesson save (%d students, %d marks)' % (
            len(lines[pool[0]]), len(batch(pool[0])['marks'])),
        whole, plain_whole, loads['lesson save'])


if __name__ == '__main__':
    main()
