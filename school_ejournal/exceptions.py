# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
from trytond.exceptions import UserError
from trytond.model.exceptions import AccessError, ValidationError


class DateError(ValidationError):
    "A date lies outside the range the rule allows"


class OverlapError(ValidationError):
    "Two records cover the same days where only one may"


class CurriculumError(ValidationError):
    "Teaching hours exceed the curriculum"


class EnrolmentError(UserError):
    "An order cannot be applied to a student's enrolment"


class OrderError(UserError):
    "An order is not in a state that allows the change"


class PeriodClosedError(ValidationError):
    "A record of a closed study period may not change"


class PeriodTransitionError(UserError):
    "Periods close in order"


class TimetableClashError(ValidationError):
    "Two lessons of the timetable meet"


class LessonError(ValidationError):
    "A lesson is not filled in as the journal's rules ask"


class MarkError(ValidationError):
    "A mark breaks a rule of the journal"


class GradeError(ValidationError):
    "A term grade breaks a rule of the journal"


class PlanError(ValidationError):
    "A thematic plan does not match the curriculum"


class ClosedFieldError(AccessError):
    "A field is written only by the journal itself or fixed at creation"


class StaffError(UserError):
    pass


class ImportListError(UserError):
    "A list imported from a file cannot be read"
