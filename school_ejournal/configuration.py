# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
from decimal import Decimal

from trytond.model import ModelSingleton, ModelSQL, ModelView, fields

from .validation import ValidationMixin


class Configuration(ValidationMixin, ModelSingleton, ModelSQL, ModelView):
    "The school's journal settings"
    __name__ = 'school.configuration'

    grade_threshold = fields.Numeric(
        "Rounding Threshold", digits=(3, 2), required=True,
        domain=[
            ('grade_threshold', '>=', Decimal('0.01')),
            ('grade_threshold', '<=', Decimal('0.99')),
            ],
        help="The fraction of the weighted average from which the proposed "
        "term grade is rounded up: with 0.60, 3.60 gives 4 and 3.59 gives 3.")
    grade_min_marks = fields.Integer(
        "Marks for a Term Grade", required=True,
        domain=[('grade_min_marks', '>=', 1)],
        help="With fewer marks in the term the proposed grade is «н/а».")
    weeks = fields.Integer(
        "Study Weeks", required=True,
        domain=[('weeks', '>=', 1), ('weeks', '<=', 40)],
        help="The study weeks of the year for levels 2 to 11; "
        "a thematic plan's hours are the curriculum's weekly hours "
        "times these weeks.")
    weeks_first = fields.Integer(
        "Study Weeks of the 1st Classes", required=True,
        domain=[('weeks_first', '>=', 1), ('weeks_first', '<=', 40)])

    @classmethod
    def default_grade_threshold(cls):
        return Decimal('0.60')

    @classmethod
    def default_grade_min_marks(cls):
        return 3

    @classmethod
    def default_weeks(cls):
        return 34

    @classmethod
    def default_weeks_first(cls):
        return 33

    def weeks_for(self, level):
        return self.weeks_first if level.number == 1 else self.weeks
