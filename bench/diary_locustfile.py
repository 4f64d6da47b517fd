# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
"""Locust users of bench/diary_load.py: each is one parent of its own,
signed in beforehand by diary_load.py (DIARY_FAMILIES: login, students,
session cookie), reading the week pages of own children, one of
DIARY_WEEKS (Mondays, comma separated) at random, without pause or, with
DIARY_PACE, one page every DIARY_PACE seconds at most, each starting
at a random moment of the first DIARY_PACE seconds (locust starts all the
users at once: paced alike from the same instant, the parents would ask
for their pages in waves of 50, which no school's parents do).

A page that is not 200 or not the child's week counts as an error.

With DIARY_TEACHERS (made by diary_load.py: each teacher's JSON-RPC
session, context and lessons of the day, held, with their students, tasks
and cells without a mark) and DIARY_WRITES (saves a second in all), one
user per teacher saves, as the grid page does, a batch of one cell of a
random lesson of his: half the time a new mark in a free cell of a
student present, else an absence set or taken back
(`model.school.lesson.grid_save` with the lesson's `_timestamp`, which the
answer renews).  A save answered with an error counts as an error.  With
DIARY_SAVES_ON_READ, the saves take the students whose pages the parents
read, where a teacher's lessons have any (the worst case for the kept
pages: every save forgets a page that is read)."""
import itertools
import json
import os
import random

import gevent
from locust import constant, constant_pacing, constant_throughput, task
from locust.contrib.fasthttp import FastHttpUser

DATABASE = os.environ['DIARY_DATABASE']
FAMILIES = json.load(open(os.environ['DIARY_FAMILIES']))
WEEKS = os.environ['DIARY_WEEKS'].split(',')
BASE = '/%s/diary/' % DATABASE
PACE = float(os.environ.get('DIARY_PACE') or 0)
_next = itertools.count()


class Parent(FastHttpUser):
    wait_time = constant_pacing(PACE) if PACE else constant(0)

    def on_start(self):
        family = FAMILIES[next(_next) % len(FAMILIES)]
        self.students = family['students']
        self.headers = {'Cookie': 'school_diary=%s' % family['cookie']}
        if PACE:
            gevent.sleep(random.uniform(0, PACE))

    @task
    def week(self):
        student = random.choice(self.students)
        week = random.choice(WEEKS)
        with self.client.get('%s%s/week?date=%s' % (BASE, student, week),
                name='week page', headers=self.headers,
                catch_response=True) as response:
            if response.status_code != 200:
                response.failure('HTTP %s' % response.status_code)
            elif 'class="weeks"' not in (response.text or ''):
                response.failure('not a week page')


TEACHERS = (json.load(open(os.environ['DIARY_TEACHERS']))
    if os.environ.get('DIARY_TEACHERS') else [])
WRITES = float(os.environ.get('DIARY_WRITES') or 0)
RPC = '/%s/rpc/' % DATABASE
VALUES = ['5', '4', '4', '3', '5', '4', '3', '2']
_teacher = itertools.count()
# The students whose pages are read, when the saves are to take them
READ = ({str(s) for f in FAMILIES for s in f['students']}
    if os.environ.get('DIARY_SAVES_ON_READ') else set())


def read_first(students):
    "The students of READ among those, or all of them if none is"
    return [s for s in students if str(s) in READ] or list(students)


if TEACHERS and WRITES:
    class Teacher(FastHttpUser):
        fixed_count = len(TEACHERS)
        wait_time = constant_throughput(WRITES / len(TEACHERS))

        def on_start(self):
            teacher = TEACHERS[next(_teacher) % len(TEACHERS)]
            self.lessons = teacher['lessons']
            if READ:
                self.lessons = [l for l in self.lessons
                    if READ & l['attendance'].keys()] or self.lessons
            self.rpc_context = teacher['context']
            self.headers = {'Content-Type': 'application/json',
                'Authorization': teacher['auth']}
            self.counter = 0
            gevent.sleep(random.uniform(0, len(TEACHERS) / WRITES))

        @task
        def save(self):
            lesson = random.choice(self.lessons)
            attendance = lesson['attendance']
            free = [f for f in lesson['free'] if not attendance[str(f[1])]]
            if READ:
                read = set(read_first(f[1] for f in free))
                free = [f for f in free if f[1] in read]
            if free and random.random() < 0.5:
                task_id, student = random.choice(free)
                lesson['free'].remove([task_id, student])
                changes = {'marks': [[task_id, student,
                            random.choice(VALUES)]]}
            else:
                student = random.choice(read_first(attendance))
                value = None if attendance[student] else 'absent'
                attendance[student] = value
                changes = {'attendance': [[int(student), value]]}
            self.counter += 1
            context = dict(self.rpc_context, _timestamp={
                    'school.lesson,%s' % lesson['id']: lesson['timestamp']})
            body = json.dumps({'id': self.counter,
                    'method': 'model.school.lesson.grid_save',
                    'params': [lesson['id'], changes, context]})
            with self.client.post(RPC, data=body, headers=self.headers,
                    name='teacher save', catch_response=True) as response:
                if response.status_code != 200:
                    response.failure('HTTP %s' % response.status_code)
                    return
                answer = response.json()
                if answer.get('error'):
                    response.failure(str(answer['error'])[:200])
                    return
                result = json.loads(answer['result'])
                lesson['timestamp'] = result['lesson']['timestamp']
