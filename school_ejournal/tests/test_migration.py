# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
"""The renamed models migrate a database made before the renames.

The database of the test is put back as it was before the renames (tables,
ir.model rows and references under the old names), then the models'
``__register__`` (what ``trytond-admin -u`` runs) must bring every row back
under the new names, with the same ids.  ``setup/update`` does the same on a
real database and prints the row counts."""
import datetime as dt
import unittest

from sql import Literal, Table
from sql.aggregate import Count

from trytond import backend
from trytond.pool import Pool
from trytond.tests.test_tryton import (
    activate_module, drop_db, with_transaction)
from trytond.transaction import Transaction

from ..common import RENAMED_MODELS, _rename_model_names, model_names_unlocked
from . import test_query

D = dt.date


class RenamedModelsTestCase(unittest.TestCase):
    "Test the migration of the renamed models"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        drop_db()
        activate_module('school_ejournal')

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        drop_db()

    school = test_query.JournalQueryTestCase.school
    lessons = test_query.JournalQueryTestCase.lessons
    hold_and_mark = test_query.JournalQueryTestCase.hold_and_mark

    def count(self, table):
        cursor = Transaction().connection.cursor()
        cursor.execute(*Table(table).select(Count(Literal(1))))
        return cursor.fetchone()[0]

    def model_ids(self, models):
        ir_model = Pool().get('ir.model').__table__()
        cursor = Transaction().connection.cursor()
        names = [M.__name__ for M in models]
        cursor.execute(*ir_model.select(ir_model.name, ir_model.id,
                where=ir_model.name.in_(names)))
        return dict(cursor)

    def unrename(self, old, new):
        "Put the database of model new back as it was named old"
        backend.TableHandler.table_rename(
            new.replace('.', '_'), old.replace('.', '_'))
        # The names of the models in ir.model, fields, views, actions, and
        # the references of attachments and notes
        _rename_model_names(new, old)

    @with_transaction()
    def test_renamed_models_keep_their_rows(self):
        "The attendance and the thematic plans keep every row and id"
        pool = Pool()
        Attachment = pool.get('ir.attachment')
        Line = pool.get('school.lesson.attendance')
        Plan = pool.get('school.thematic_plan')
        PlanLine = pool.get('school.thematic_plan.line')
        school = self.school()
        self.hold_and_mark(school, {
                ('math 5А', D(2026, 11, 16)): {'1': {'Анна': '5'}}},
            attendance={('math 5А', D(2026, 11, 16)): {'Вера': 'ill'}})
        line, = Line.search([('attendance', '=', 'ill')])
        attachment, = Attachment.create([{
                    'name': 'справка.txt',
                    'resource': str(line),
                    'data': b'medical note',
                    }])
        teaching = school['teachings']['math 5А']
        with Transaction().set_user(0):
            plan, = Plan.create([{
                        'teaching': teaching.id,
                        'lines': [('create', [
                                    {'topic': 'Дроби', 'hours': 1},
                                    {'topic': 'Проценты', 'hours': 1},
                                    ])],
                        }])
        models = [Line, Plan, PlanLine]
        tables = [M._table for M in models] + [Line._table + '__history']
        rows = {t: self.count(t) for t in tables}
        self.assertTrue(all(rows.values()), rows)
        model_ids = self.model_ids(models)
        self.assertEqual(len(model_ids), 3)

        with model_names_unlocked():
            for old, new in RENAMED_MODELS.items():
                self.unrename(old, new)
        self.assertFalse(backend.TableHandler.table_exist(Line._table))
        for M in models:
            M.__register__('school_ejournal')

        for old in RENAMED_MODELS:
            self.assertFalse(backend.TableHandler.table_exist(
                    old.replace('.', '_')), old)
        self.assertEqual({t: self.count(t) for t in tables}, rows)
        self.assertEqual(self.model_ids(models), model_ids)
        self.assertEqual(Attachment(attachment.id).resource, line)
        self.assertEqual(Line(line.id).attendance, 'ill')
        self.assertEqual(
            [l.topic for l in Plan(plan.id).lines], ['Дроби', 'Проценты'])
