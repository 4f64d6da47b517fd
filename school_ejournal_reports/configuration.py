# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
from trytond.model import fields
from trytond.pool import PoolMeta


class Configuration(metaclass=PoolMeta):
    "The numbers of the journal-keeping analysis"
    __name__ = 'school.configuration'

    audit_homework = fields.Boolean(
        "Homework Required",
        help="A held lesson without homework counts as not filled in.")
    audit_absence_rate = fields.Integer(
        "Absence Rate (%)", required=True,
        domain=[
            ('audit_absence_rate', '>=', 1),
            ('audit_absence_rate', '<=', 100),
            ],
        help="A student who missed this share of a month's lessons "
        "(Н, Б, УП) is reported.")
    audit_grace_weeks = fields.Integer(
        "Weeks without Check", required=True,
        domain=[('audit_grace_weeks', '>=', 0)],
        help="The first weeks of a term in which the accumulation of marks "
        "is not checked.")
    audit_grace_weeks_one = fields.Integer(
        "Weeks without Check (1 Hour)", required=True,
        domain=[('audit_grace_weeks_one', '>=', 0)],
        help="The same for subjects of 1 hour a week.")
    audit_marks_week_3 = fields.Integer(
        "Marks by Week 3", required=True,
        domain=[('audit_marks_week_3', '>=', 0)],
        help="The marks a student has by the end of the 3rd week "
        "of a term at 2 hours a week (scaled by hours / 2).")
    audit_marks_week_4 = fields.Integer(
        "Marks by Week 4", required=True,
        domain=[('audit_marks_week_4', '>=', 0)],
        help="The marks a student has by the end of the 4th week "
        "of a term at 2 hours a week (scaled by hours / 2).")
    audit_term_marks_one = fields.Integer(
        "Term Marks (1 Hour)", required=True,
        domain=[('audit_term_marks_one', '>=', 0)],
        help="The marks a student has at the end of a term "
        "at 1 hour a week.")
    audit_term_marks = fields.Integer(
        "Term Marks (2 Hours)", required=True,
        domain=[('audit_term_marks', '>=', 0)],
        help="The marks a student has at the end of a term at 2 hours "
        "a week; at more hours this times hours / 2, rounded up.")
    audit_control_day = fields.Integer(
        "Control Works a Day", required=True,
        domain=[('audit_control_day', '>=', 1)],
        help="The most control works of a class on one day.")
    audit_control_week = fields.Integer(
        "Control Works a Week", required=True,
        domain=[('audit_control_week', '>=', 1)],
        help="The most control works of a class in one week.")
    report_weekly_hours = fields.Integer(
        "Teacher's Weekly Hours", required=True,
        domain=[('report_weekly_hours', '>=', 1)],
        help="The norm of a teacher's lessons a week (one rate); the "
        "workload report colours the weeks above it.")
    audit_plans = fields.Boolean(
        "Check Thematic Plans",
        help="The analysis checks the thematic plans (КТП) kept in the "
        "journal: missing, not approved, not matching the curriculum or "
        "behind the calendar.")
    audit_plan_lag = fields.Integer(
        "Plan Lag (Hours)", required=True,
        domain=[('audit_plan_lag', '>=', 0)],
        help="The hours a thematic plan may be behind the lessons of the "
        "calendar before it is reported.")
    audit_admin_control_days = fields.Integer(
        "Control Schedule Tolerance (Days)", required=True,
        domain=[('audit_admin_control_days', '>=', 0)],
        help="The days before or after its day of the internal-control "
        "schedule an administrative control work may be held.")

    @classmethod
    def default_audit_homework(cls):
        return True

    @classmethod
    def default_audit_absence_rate(cls):
        return 30

    @classmethod
    def default_audit_grace_weeks(cls):
        return 2

    @classmethod
    def default_audit_grace_weeks_one(cls):
        return 3

    @classmethod
    def default_audit_marks_week_3(cls):
        return 1

    @classmethod
    def default_audit_marks_week_4(cls):
        return 2

    @classmethod
    def default_audit_term_marks_one(cls):
        return 3

    @classmethod
    def default_audit_term_marks(cls):
        return 5

    @classmethod
    def default_audit_control_day(cls):
        return 1

    @classmethod
    def default_audit_control_week(cls):
        return 3

    @classmethod
    def default_audit_plan_lag(cls):
        return 2

    @classmethod
    def default_audit_admin_control_days(cls):
        return 3

    @classmethod
    def default_report_weekly_hours(cls):
        return 18

    @classmethod
    def default_audit_plans(cls):
        return True
