# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
"""Locust users of bench/diary_load.py: each is one parent of its own
(DIARY_FAMILIES: the JSON of bench/diary_parents.py), signs in through the
e-diary's form (CSRF token and cookie) and then reads the week pages of
own children, one of DIARY_WEEKS (Mondays, comma separated) at random.

A page that is not 200 or not the child's week counts as an error."""
import itertools
import json
import os
import random
import re

from locust import constant, task
from locust.contrib.fasthttp import FastHttpUser

DATABASE = os.environ['DIARY_DATABASE']
FAMILIES = json.load(open(os.environ['DIARY_FAMILIES']))
WEEKS = os.environ['DIARY_WEEKS'].split(',')
BASE = '/%s/diary/' % DATABASE
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
_next = itertools.count()


class Parent(FastHttpUser):
    wait_time = constant(0)

    def on_start(self):
        family = FAMILIES[next(_next) % len(FAMILIES)]
        self.students = family['students']
        with self.client.get(BASE + 'login', name='login form',
                catch_response=True) as response:
            match = CSRF.search(response.text or '')
            if not match:
                response.failure('no CSRF token')
                self.stop()
                return
        with self.client.post(BASE + 'login', name='sign in',
                data={'login': family['login'], 'password':
                    os.environ['DIARY_PASSWORD'], 'csrf': match.group(1)},
                allow_redirects=False, catch_response=True) as response:
            if response.status_code != 303:
                response.failure('sign-in answered %s'
                    % response.status_code)
                self.stop()

    @task
    def week(self):
        student = random.choice(self.students)
        week = random.choice(WEEKS)
        with self.client.get('%s%s/week?date=%s' % (BASE, student, week),
                name='week page', catch_response=True) as response:
            if response.status_code != 200:
                response.failure('HTTP %s' % response.status_code)
            elif 'class="weeks"' not in (response.text or ''):
                response.failure('not a week page')
