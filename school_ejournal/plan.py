# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
from decimal import Decimal

from trytond.i18n import gettext
from trytond.model import (
    ModelSQL, ModelView, Unique, Workflow, fields, sequence_ordered)
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.transaction import Transaction
from trytond.wizard import Button, StateTransition, StateView, Wizard

from .common import (
    ClosedFieldsMixin, check_writable, company_through, rename_model, stamp,
    user_employees)
from .exceptions import PlanError
from .validation import (
    RPCGuardMixin, ValidationMixin, ValidationWizardMixin, guard_cell,
    read_table)

LINE_KINDS = [
    ('lesson', "Lesson"),
    ('practical', "Practical work"),
    ('laboratory', "Laboratory work"),
    ('control', "Control work"),
    ('excursion', "Excursion"),
    ]


class ThematicPlan(
        ValidationMixin, ClosedFieldsMixin, company_through('teaching'),
        Workflow, ModelSQL, ModelView):
    "A calendar-thematic plan (КТП) of a teaching assignment"
    __name__ = 'school.thematic_plan'
    _system_fields = frozenset({'state', 'submitted_by', 'approved_by'})
    _fixed_fields = frozenset({'teaching'})

    _states = {'readonly': Eval('state') != 'draft'}

    teaching = fields.Many2One(
        'school.teaching', "Teaching", required=True, states=_states,
        ondelete='CASCADE')
    lines = fields.One2Many(
        'school.thematic_plan.line', 'plan', "Topics", states=_states)
    hours = fields.Function(
        fields.Integer("Hours", help="The hours of all topics."),
        'get_hours')
    required_hours = fields.Function(
        fields.Integer("Curriculum Hours",
            help="The curriculum's weekly hours times the study weeks."),
        'get_required_hours')
    state = fields.Selection([
            ('draft', "Draft"),
            ('submitted', "Submitted"),
            ('approved', "Approved"),
            ], "State", readonly=True, required=True, sort=False)
    submitted_by = fields.Many2One(
        'res.user', "Submitted by", readonly=True)
    approved_by = fields.Many2One('res.user', "Approved by", readonly=True)

    del _states

    @classmethod
    def __register__(cls, module):
        # Migration from 8.0.0: renamed from school.plan
        rename_model(cls, 'school.plan')
        super().__register__(module)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('teaching_unique', Unique(t, t.teaching),
                'school_ejournal.msg_plan_teaching_unique'),
            ]
        cls._transitions |= {
            ('draft', 'submitted'),
            ('submitted', 'approved'),
            ('submitted', 'draft'),
            ('approved', 'draft'),
            }
        cls._buttons.update({
                'submit': {
                    'invisible': Eval('state') != 'draft',
                    'depends': ['state'],
                    },
                'approve': {
                    'invisible': Eval('state') != 'submitted',
                    'depends': ['state'],
                    },
                'draft': {
                    'invisible': Eval('state') == 'draft',
                    'depends': ['state'],
                    },
                })

    @classmethod
    def default_state(cls):
        return 'draft'

    def get_rec_name(self, name):
        return self.teaching.rec_name

    @classmethod
    def search_rec_name(cls, name, clause):
        return [('teaching.rec_name', *clause[1:])]

    def get_hours(self, name):
        return sum(l.hours or 0 for l in self.lines)

    def get_required_hours(self, name):
        pool = Pool()
        CurriculumLine = pool.get('school.curriculum.line')
        Configuration = pool.get('school.configuration')
        weekly = CurriculumLine.hours_for(
            self.teaching.class_, self.teaching.subject,
            self.teaching.elective)
        weeks = Configuration(1).weeks_for(self.teaching.class_.level)
        return int(Decimal(weekly) * weeks)

    @classmethod
    def check_modification(cls, mode, plans, values=None, external=False):
        super().check_modification(
            mode, plans, values=values, external=external)
        if mode == 'delete':
            # The lessons held follow an approved plan
            for plan in plans:
                if plan.state != 'draft':
                    raise PlanError(gettext(
                            'school_ejournal.msg_plan_%s_delete' % plan.state,
                            plan=plan.rec_name))

    def approved_by_author(self):
        "Tell if the user wrote the plan: its teacher or its creator"
        user = Transaction().user
        return bool(user) and (
            self.teaching.teacher.id in user_employees()
            or (self.create_uid and self.create_uid.id == user))

    def check_hours(self):
        if self.hours != self.required_hours:
            raise PlanError(gettext(
                    'school_ejournal.msg_plan_hours',
                    plan=self.rec_name, hours=self.hours,
                    required=self.required_hours))

    @classmethod
    @ModelView.button
    @Workflow.transition('submitted')
    @stamp('submitted_by')
    def submit(cls, plans):
        "The plan's teacher hands it to the deputy head for approval"
        user = Transaction().user
        employees = user_employees()
        for plan in plans:
            if user and plan.teaching.teacher.id not in employees:
                raise PlanError(gettext(
                        'school_ejournal.msg_plan_submit_not_owner',
                        plan=plan.rec_name))
            plan.check_hours()

    @classmethod
    @ModelView.button
    @Workflow.transition('approved')
    @stamp('approved_by')
    def approve(cls, plans):
        for plan in plans:
            if plan.approved_by_author():
                raise PlanError(gettext(
                        'school_ejournal.msg_plan_approve_own',
                        plan=plan.rec_name))
            plan.check_hours()

    @classmethod
    @ModelView.button
    @Workflow.transition('draft')
    def draft(cls, plans):
        "Return the plan to its teacher, who may change it again"
        cls.write(plans, {'submitted_by': None, 'approved_by': None})


class ThematicPlanLine(
        ValidationMixin, ClosedFieldsMixin, sequence_ordered(), ModelSQL,
        ModelView):
    "A topic of a thematic plan"
    __name__ = 'school.thematic_plan.line'
    _fixed_fields = frozenset({'plan'})

    plan = fields.Many2One(
        'school.thematic_plan', "Plan", required=True, ondelete='CASCADE')
    topic = fields.Char("Topic", required=True)
    hours = fields.Integer(
        "Hours", required=True, domain=[('hours', '>', 0)])
    kind = fields.Selection(LINE_KINDS, "Kind", required=True)

    @classmethod
    def __register__(cls, module):
        # Migration from 8.0.0: renamed from school.plan.line
        rename_model(cls, 'school.plan.line')
        super().__register__(module)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('plan')

    @classmethod
    def default_hours(cls):
        return 1

    @classmethod
    def default_kind(cls):
        return 'lesson'

    def get_rec_name(self, name):
        return '%s. %s' % (self.sequence or '', self.topic)

    @classmethod
    def search_rec_name(cls, name, clause):
        return [('topic', *clause[1:])]

    @classmethod
    def check_modification(cls, mode, lines, values=None, external=False):
        super().check_modification(
            mode, lines, values=values, external=external)
        for line in lines:
            if line.plan.state != 'draft':
                raise PlanError(gettext(
                        'school_ejournal.msg_plan_approved',
                        plan=line.plan.rec_name))


class ThematicPlanImportStart(RPCGuardMixin, ModelView):
    "Import topics"
    __name__ = 'school.thematic_plan.import.start'

    file = fields.Binary(
        "File", required=True, filename='filename',
        help="A CSV or XLSX file with the columns: topic, hours, kind "
        "(lesson, practical, laboratory, control, excursion); "
        "a first row of headers is skipped.")
    filename = fields.Char("File Name")


class ThematicPlanImport(ValidationWizardMixin, Wizard):
    "Import the topics of a thematic plan from a spreadsheet"
    __name__ = 'school.thematic_plan.import'

    start = StateView('school.thematic_plan.import.start',
        'school_ejournal.plan_import_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Import", 'import_', 'tryton-ok', default=True),
            ])
    import_ = StateTransition()

    def transition_import_(self):
        pool = Pool()
        Line = pool.get('school.thematic_plan.line')
        plan = self.record
        check_writable([plan])
        filename = self.start.filename or ''
        rows = read_rows(self.start.file, filename)
        kinds = dict(LINE_KINDS)
        labels = {}
        # Kinds may be written as their codes or their names in English,
        # Russian or the user's language
        for language in {'en', 'ru', Transaction().language}:
            with Transaction().set_context(language=language):
                selection = Line.fields_get(['kind'])['kind']['selection']
            for code, label in selection:
                labels[label.lower()] = code
        lines = []
        for number, row in enumerate(rows, 1):
            if not any(row):
                continue
            topic = row[0]
            hours = row[1] if len(row) > 1 else '1'
            kind = (row[2] if len(row) > 2 else '') or 'lesson'
            kind = kind if kind in kinds else labels.get(kind.lower())
            try:
                hours = int(float(hours.replace(',', '.')))
            except (ValueError, OverflowError):
                if number == 1:
                    continue  # headers
                hours = None
            for column, (name, value) in enumerate(
                    [('topic', topic), ('hours', hours)], 1):
                guard_cell(Line, name, value, filename, number, column)
            if not topic or not hours or hours < 1 or not kind:
                raise PlanError(gettext(
                        'school_ejournal.msg_plan_import_row',
                        row=number, plan=plan.rec_name))
            lines.append({
                    'plan': plan.id, 'topic': topic, 'hours': hours,
                    'kind': kind, 'sequence': len(plan.lines) + len(lines) + 1,
                    })
        if not lines:
            raise PlanError(gettext(
                    'school_ejournal.msg_plan_import_empty',
                    plan=plan.rec_name))
        Line.create(lines)
        return 'end'


def read_rows(data, filename):
    "Return the rows of a CSV or XLSX file, as lists of text"
    return read_table(data, filename)


class ThematicPlanCopyStart(RPCGuardMixin, ModelView):
    "Copy a plan"
    __name__ = 'school.thematic_plan.copy.start'

    source = fields.Many2One(
        'school.thematic_plan', "From Plan", required=True,
        domain=[
            ('teaching.subject', '=', Eval('subject', -1)),
            ('id', '!=', Eval('plan', -1)),
            ],
        help="The plan of the same subject to copy the topics from, "
        "as last year's plan of the same level.")
    subject = fields.Many2One('school.subject', "Subject", readonly=True)
    plan = fields.Many2One('school.thematic_plan', "Plan", readonly=True)


class ThematicPlanCopy(ValidationWizardMixin, Wizard):
    "Copy the topics of another plan, as last year's"
    __name__ = 'school.thematic_plan.copy'

    start = StateView('school.thematic_plan.copy.start',
        'school_ejournal.plan_copy_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Copy", 'copy', 'tryton-ok', default=True),
            ])
    copy = StateTransition()

    def default_start(self, fields):
        pool = Pool()
        Plan = pool.get('school.thematic_plan')
        plan = self.record
        values = {'plan': plan.id, 'subject': plan.teaching.subject.id}
        previous = Plan.search([
                ('teaching.subject', '=', plan.teaching.subject.id),
                ('teaching.class_.level.number', '=',
                    plan.teaching.class_.level.number),
                ('id', '!=', plan.id),
                ], order=[('teaching.class_.year.start_date', 'DESC')],
            limit=1)
        if previous:
            values['source'] = previous[0].id
        return values

    def transition_copy(self):
        pool = Pool()
        Line = pool.get('school.thematic_plan.line')
        plan = self.record
        check_writable([plan])
        if plan.state != 'draft':
            raise PlanError(gettext(
                    'school_ejournal.msg_plan_approved', plan=plan.rec_name))
        Line.copy(self.start.source.lines, default={'plan': plan.id})
        return 'end'
