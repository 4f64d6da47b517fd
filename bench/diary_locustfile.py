# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
"""Locust users of bench/diary_load.py: each is one parent of its own,
signed in beforehand by diary_load.py (DIARY_FAMILIES: login, students,
session cookie), reading the week pages of own children, one of
DIARY_WEEKS (Mondays, comma separated) at random, without pause or, with
DIARY_PACE, one page every DIARY_PACE seconds at most.

A page that is not 200 or not the child's week counts as an error."""
import itertools
import json
import os
import random

from locust import constant, constant_pacing, task
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
