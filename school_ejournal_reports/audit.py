# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
"""The journal-keeping analysis («Анализ работы с классными журналами»):
runs that apply the rules to a window of the journal as set-based queries
and the remarks they raise, which teachers fix and the next run confirms."""
import datetime as dt
import json
import logging
import time
from collections import defaultdict

from sql import Column, Literal
from sql.conditionals import Case
from sql.functions import CurrentTimestamp

from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, Workflow, fields
from trytond.pool import Pool
from trytond.pyson import Bool, Eval, PYSONEncoder
from trytond.transaction import Transaction, without_check_access
from trytond.wizard import Button, StateAction, StateView, Wizard

from .exceptions import AuditError, RemarkAccessError
from .rule import AuditRules
from .rule_plan import PlanControlRules

logger = logging.getLogger(__name__)

SCOPES = [
    ('school', "School"),
    ('class', "Class"),
    ('teacher', "Teacher"),
    ]
WINDOWS = [
    ('week', "Week"),
    ('month', "Month"),
    ('term', "Term"),
    ('half', "Half-year"),
    ('year', "Year"),
    ]
RULES = [
    ('not_filled', "Lesson not filled in"),
    ('filled_late', "Lesson filled in late"),
    ('no_attendance', "Attendance not recorded"),
    ('absences', "Many lessons missed"),
    ('mark_untyped', "Mark without a typed task"),
    ('mark_beyond_norm', "Mark entered beyond the checking norm"),
    ('mark_corrected', "Mark corrected"),
    ('no_substitution', "Substitution not recorded"),
    ('accumulation', "Too few marks"),
    ('control_day', "Control works a day"),
    ('control_week', "Control works a week"),
    ('plan_behind', "Thematic plan behind the calendar"),
    ('plan_missing', "Thematic plan missing or not matching the curriculum"),
    ('admin_control_missing', "Administrative control work not done"),
    ('admin_control_unscheduled',
        "Administrative control work not in the schedule"),
    ]
SEVERITIES = [
    ('info', "Information"),
    ('warning', "Warning"),
    ('error', "Error"),
    ]
SEVERITY = {
    'not_filled': 'error',
    'filled_late': 'warning',
    'no_attendance': 'error',
    'absences': 'warning',
    'mark_untyped': 'error',
    'mark_beyond_norm': 'error',
    'mark_corrected': 'info',
    'no_substitution': 'warning',
    'accumulation': 'warning',
    'control_day': 'warning',
    'control_week': 'warning',
    'plan_behind': 'warning',
    'plan_missing': 'error',
    'admin_control_missing': 'error',
    'admin_control_unscheduled': 'warning',
    }
# Remarks of past facts: nothing done later makes them untrue, so the
# teacher's explanation (fixed) is what the next run confirms
EVENT_RULES = {
    'filled_late', 'absences', 'mark_beyond_norm', 'mark_corrected',
    'control_day', 'control_week', 'admin_control_unscheduled'}
UNRESOLVED = ('open', 'fixed', 'reopened')


def window_dates(window, date, period=None, year=None):
    "Return the first and last day of the window holding the date"
    if window == 'week':
        start = date - dt.timedelta(days=date.weekday())
    elif window == 'month':
        start = date.replace(day=1)
    elif window == 'term':
        start = period.start_date if period else date.replace(day=1)
    elif window == 'half':
        if date.month >= 9:
            start = year.start_date if year else date.replace(month=9, day=1)
        else:
            start = date.replace(month=1, day=1)
    else:
        start = year.start_date if year else date.replace(
            year=date.year - (date.month < 9), month=9, day=1)
    return start, date


class AuditRun(
        PlanControlRules, AuditRules, Workflow, ModelSQL, ModelView):
    "An analysis of the journal keeping over a window"
    __name__ = 'school.audit.run'

    _states = {'readonly': Eval('state') != 'draft'}

    company = fields.Many2One(
        'company.company', "School", required=True, states=_states)
    scope = fields.Selection(
        SCOPES, "Scope", required=True, states=_states,
        help="The whole school, one class or one teacher.")
    class_ = fields.Many2One(
        'school.class', "Class",
        states={
            'readonly': _states['readonly'],
            'required': Eval('scope') == 'class',
            'invisible': Eval('scope') != 'class',
            })
    teacher = fields.Many2One(
        'company.employee', "Teacher",
        domain=[('company', '=', Eval('company', -1))],
        states={
            'readonly': _states['readonly'],
            'required': Eval('scope') == 'teacher',
            'invisible': Eval('scope') != 'teacher',
            })
    window = fields.Selection(
        WINDOWS, "Window", required=True, states=_states,
        help="The week, month, term, half-year or year up to the date.")
    date = fields.Date(
        "As of", required=True, states=_states,
        help="The last day the analysis covers.")
    start_date = fields.Date("From", readonly=True)
    end_date = fields.Date("To", readonly=True)
    state = fields.Selection([
            ('draft', "Draft"),
            ('done', "Done"),
            ], "State", readonly=True, required=True, sort=False)
    ran_at = fields.DateTime("Ran at", readonly=True)
    ran_by = fields.Many2One('res.user', "Ran by", readonly=True)
    remarks = fields.One2Many(
        'school.audit.remark', 'run', "Remarks", readonly=True,
        help="The remarks this run raised first.")
    remark_count = fields.Function(
        fields.Integer("Remarks"), 'get_remark_count')

    del _states

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('date', 'DESC'), ('id', 'DESC')]
        cls._transitions |= {('draft', 'done')}
        cls._buttons.update({
                'run': {
                    'invisible': Eval('state') != 'draft',
                    'depends': ['state'],
                    },
                })

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def default_scope(cls):
        return 'school'

    @classmethod
    def default_window(cls):
        return 'week'

    @classmethod
    def default_date(cls):
        return Pool().get('ir.date').today()

    @classmethod
    def default_state(cls):
        return 'draft'

    def get_rec_name(self, name):
        window = dict(self.fields_get(['window'])['window']['selection'])
        what = (self.class_.rec_name if self.scope == 'class' and self.class_
            else self.teacher.rec_name
            if self.scope == 'teacher' and self.teacher else None)
        name = '%s %s' % (window[self.window], self.date.strftime('%d.%m.%Y'))
        return '%s (%s)' % (name, what) if what else name

    @classmethod
    def get_remark_count(cls, runs, name):
        return {r.id: len(r.remarks) for r in runs}

    @classmethod
    def check_modification(cls, mode, runs, values=None, external=False):
        super().check_modification(
            mode, runs, values=values, external=external)
        if external and mode == 'write' and values.keys() - {'state'}:
            for run in runs:
                if run.state != 'draft':
                    raise AuditError(gettext(
                            'school_ejournal_reports.msg_run_done',
                            run=run.rec_name))

    @classmethod
    @ModelView.button
    @Workflow.transition('done')
    def run(cls, runs):
        "Apply the rules and write the remarks"
        for run in runs:
            run._run()

    # The analysis

    def _window(self):
        pool = Pool()
        Year = pool.get('school.year')
        Period = pool.get('school.period')
        year = Year.find(self.company.id, self.date)
        period = None
        if self.window == 'term':
            periods = Period.search([
                    ('year.company', '=', self.company.id),
                    ('start_date', '<=', self.date),
                    ('end_date', '>=', self.date - dt.timedelta(days=31)),
                    ], order=[('start_date', 'DESC')], limit=1)
            period = periods[0] if periods else None
        return window_dates(self.window, self.date, period=period, year=year)

    def _run(self):
        pool = Pool()
        Remark = pool.get('school.audit.remark')
        self.start_date, self.end_date = self._window()
        self.ran_at = dt.datetime.now()
        self.ran_by = Transaction().user
        self.save()
        findings = {}
        for rule, _ in RULES:
            method = getattr(self, '_rule_%s' % rule, None)
            if method is None:
                continue
            start, count = time.perf_counter(), len(findings)
            for finding in method():
                finding['rule'] = rule
                finding.setdefault('severity', SEVERITY[rule])
                findings[Remark.make_key(finding)] = finding
            logger.info("audit run %s: rule %s, %d findings in %.3f s",
                self.id, rule, len(findings) - count,
                time.perf_counter() - start)
        start = time.perf_counter()
        with without_check_access():
            Remark.update_from(self, findings)
        logger.info("audit run %s: %d remarks written in %.3f s",
            self.id, len(findings), time.perf_counter() - start)

    # Scheduled runs

    @classmethod
    def _companies(cls):
        pool = Pool()
        Company = pool.get('company.company')
        company = Transaction().context.get('company')
        return [Company(company)] if company else Company.search([])

    @classmethod
    def run_scheduled(cls, window, date=None, notify='teachers'):
        "Run the school-wide analysis of the window up to the date"
        pool = Pool()
        Date = pool.get('ir.date')
        date = date or Date.today() - dt.timedelta(days=1)
        runs = []
        for company in cls._companies():
            with Transaction().set_context(company=company.id):
                run = cls(company=company, scope='school', window=window,
                    date=date)
                run.save()
                cls.run([run])
                runs.append(run)
                if notify == 'teachers':
                    run.notify_teachers()
                else:
                    run.notify_deputies()
        return runs

    @classmethod
    def run_weekly(cls):
        "Run the week's analysis and tell each teacher his remarks"
        cls.run_scheduled('week')

    @classmethod
    def run_monthly(cls):
        "On the first of a month, run the last month's for the deputies"
        Date = Pool().get('ir.date')
        if Date.today().day == 1:
            cls.run_scheduled('month', notify='deputies')

    @classmethod
    def run_term(cls):
        "The day after a term ends, run the term's for the deputies"
        pool = Pool()
        Date = pool.get('ir.date')
        Period = pool.get('school.period')
        yesterday = Date.today() - dt.timedelta(days=1)
        for company in cls._companies():
            with Transaction().set_context(company=company.id):
                periods = Period.search([
                        ('year.company', '=', company.id),
                        ('end_date', '=', yesterday),
                        ])
                for period in periods:
                    cls.run_scheduled(
                        'half' if period.kind == 'half' else 'term',
                        date=yesterday, notify='deputies')
                    break

    def _unresolved(self):
        Remark = Pool().get('school.audit.remark')
        return Remark.search([
                ('last_run', '=', self.id),
                ('state', 'in', ['open', 'reopened']),
                ])

    def notify_teachers(self):
        "Notify each teacher's users of their unresolved remarks"
        pool = Pool()
        User = pool.get('res.user')
        Remark = pool.get('school.audit.remark')
        by_teacher = defaultdict(list)
        for remark in self._unresolved():
            if remark.teacher:
                by_teacher[remark.teacher.id].append(remark)
        for teacher, remarks in by_teacher.items():
            for user in User.search([('employees', '=', teacher)]):
                with Transaction().set_context(
                        language=user.language.code
                        if user.language else None):
                    Remark.notify_user(remarks, None,
                        gettext('school_ejournal_reports.msg_notify_label'),
                        gettext(
                            'school_ejournal_reports.msg_notify_teacher',
                            run=self.rec_name, count=len(remarks)),
                        user=user.id)

    def notify_deputies(self):
        "Notify the academic deputies of the run's unresolved remarks"
        pool = Pool()
        User = pool.get('res.user')
        Remark = pool.get('school.audit.remark')
        ModelData = pool.get('ir.model.data')
        remarks = self._unresolved()
        group = ModelData.get_id('school_ejournal', 'group_deputy_academic')
        for user in User.search([('groups', '=', group)]):
            Remark.notify_user(remarks, None,
                gettext('school_ejournal_reports.msg_notify_label'),
                gettext('school_ejournal_reports.msg_notify_deputy',
                    run=self.rec_name, count=len(remarks)),
                user=user.id)


class AuditRemark(Workflow, ModelSQL, ModelView):
    "A remark of the journal-keeping analysis"
    __name__ = 'school.audit.remark'

    company = fields.Many2One('company.company', "School", readonly=True)
    run = fields.Many2One(
        'school.audit.run', "Run", required=True, readonly=True,
        ondelete='CASCADE', help="The run that raised the remark.")
    last_run = fields.Many2One(
        'school.audit.run', "Last Run", readonly=True, ondelete='SET NULL',
        help="The last run that checked the remark.")
    key = fields.Char("Key", readonly=True, required=True)
    rule = fields.Selection(RULES, "Rule", readonly=True, required=True)
    severity = fields.Selection(
        SEVERITIES, "Severity", readonly=True, required=True)
    teacher = fields.Many2One(
        'company.employee', "Teacher", readonly=True,
        help="The teacher who answers for the remark.")
    class_ = fields.Many2One('school.class', "Class", readonly=True)
    subject = fields.Many2One('school.subject', "Subject", readonly=True)
    period = fields.Many2One('school.period', "Study Period", readonly=True)
    lesson = fields.Many2One(
        'school.lesson', "Lesson", readonly=True, ondelete='CASCADE')
    student = fields.Many2One('school.student', "Student", readonly=True)
    mark = fields.Many2One(
        'school.mark', "Mark", readonly=True, ondelete='CASCADE')
    date = fields.Date(
        "Date", readonly=True, required=True,
        help="The day of the lesson, mark, checkpoint, week or month "
        "the remark is about.")
    params = fields.Char("Parameters", readonly=True)
    text = fields.Function(fields.Char("Remark"), 'get_text')
    state = fields.Selection([
            ('open', "Open"),
            ('fixed', "Fixed"),
            ('confirmed', "Confirmed"),
            ('reopened', "Reopened"),
            ], "State", readonly=True, required=True, sort=False,
        help="Open: to be fixed by the teacher. Fixed: the teacher says so; "
        "the next run confirms it or reopens it.")
    comment = fields.Text(
        "Comment",
        states={'readonly': ~Eval('state').in_(['open', 'reopened'])},
        help="What the teacher did about the remark.")
    fixed_by = fields.Many2One('res.user', "Fixed by", readonly=True)
    fixed_at = fields.DateTime("Fixed at", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.update({
                Index(t, (t.key, Index.Equality()),
                    (t.state, Index.Equality())),
                Index(t, (t.teacher, Index.Equality()),
                    (t.state, Index.Equality())),
                Index(t, (t.class_, Index.Equality())),
                Index(t, (t.date, Index.Range())),
                })
        cls._order = [('date', 'DESC'), ('id', 'DESC')]
        cls._transitions |= {
            ('fixed', 'confirmed'),
            ('fixed', 'reopened'),
            ('open', 'confirmed'),
            ('reopened', 'confirmed'),
            }
        cls._buttons.update({
                'fix': {
                    'invisible': ~Eval('state').in_(['open', 'reopened']),
                    'readonly': ~Bool(Eval('comment')),
                    'depends': ['state', 'comment'],
                    },
                })

    @classmethod
    def default_state(cls):
        return 'open'

    @staticmethod
    def make_key(finding):
        "The identity of a finding across runs"
        return ':'.join(str(finding.get(k) or '') for k in [
                'rule', 'lesson', 'mark', 'correction', 'student', 'class_',
                'subject', 'period', 'checkpoint', 'date'])

    def get_rec_name(self, name):
        return self.text

    @classmethod
    def search_rec_name(cls, name, clause):
        return ['OR',
            ('teacher.rec_name', *clause[1:]),
            ('class_.rec_name', *clause[1:]),
            ('student.rec_name', *clause[1:]),
            ]

    def _text_values(self):
        pool = Pool()
        User = pool.get('res.user')
        params = json.loads(self.params or '{}')
        values = {
            'lesson': self.lesson.rec_name if self.lesson else '',
            'student': self.student.rec_name if self.student else '',
            'class_': self.class_.rec_name if self.class_ else '',
            'subject': self.subject.rec_name if self.subject else '',
            'teacher': self.teacher.rec_name if self.teacher else '',
            'date': self.date.strftime('%d.%m.%Y'),
            'mark': '',
            }
        if self.mark:
            values['mark'] = self.mark.value_string
        values.update(params)
        if self.rule == 'not_filled':
            values['missing'] = ', '.join(gettext(
                    'school_ejournal_reports.msg_missing_%s' % m)
                for m in params.get('missing', []))
        elif self.rule == 'absences':
            values['month'] = dt.date.fromisoformat(
                params['month']).strftime('%m.%Y')
        elif self.rule == 'accumulation':
            values['checkpoint'] = gettext(
                'school_ejournal_reports.msg_checkpoint_%s'
                % params['checkpoint'])
        elif self.rule == 'no_substitution':
            values['user'] = User(params['user']).rec_name
        elif self.rule == 'plan_missing':
            values['reason'] = gettext(
                'school_ejournal_reports.msg_plan_reason_%s'
                % params['reason'], **params)
        elif self.rule == 'admin_control_missing':
            values['planned'] = dt.date.fromisoformat(
                params['planned']).strftime('%d.%m.%Y')
        elif self.rule == 'mark_corrected':
            values['state'] = gettext(
                'school_ejournal_reports.msg_correction_%s' % params['state'])
        return values

    def get_text(self, name):
        return gettext(
            'school_ejournal_reports.msg_remark_%s' % self.rule,
            **self._text_values())

    @classmethod
    def update_from(cls, run, findings):
        """Write the findings {key: finding} of the run: raise the new ones,
        reopen or confirm the ones fixed, confirm the ones no longer found
        in the run's window and scope.

        The unresolved remarks of the school are read with one query; the
        writes go through ModelSQL.write, one per kind of change (a
        remark's figures only when they changed, grouped by their value),
        not one per remark."""
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        in_scope = (table.date >= run.start_date) & (
            table.date <= run.end_date)
        if run.scope == 'class':
            in_scope &= table.class_ == run.class_.id
        elif run.scope == 'teacher':
            in_scope &= table.teacher == run.teacher.id
        cursor.execute(*table.select(
                # params is a method of python-sql's tables
                table.id, table.key, table.state, table.rule,
                Column(table, 'params'),
                Case((in_scope, Literal(1)), else_=Literal(0)),
                where=(table.company == run.company.id)
                & table.state.in_(UNRESOLVED)))
        rows = cursor.fetchall()
        ids = [r[0] for r in rows]
        remarks = dict(zip(ids, cls.browse(ids)))
        to_reopen, to_confirm, to_keep = [], [], []
        # The figures of a remark found again are the run's
        updates = defaultdict(list)
        seen = set()
        for id_, key, state, rule, params, scoped in rows:
            remark = remarks[id_]
            finding = findings.get(key)
            if finding is None:
                if scoped:
                    to_confirm.append(remark)
                continue
            seen.add(key)
            new_params = json.dumps(finding.get('params', {}), sort_keys=True)
            if new_params != params:
                updates[new_params].append(remark)
            if state == 'fixed':
                if rule in EVENT_RULES:
                    to_confirm.append(remark)
                else:
                    to_reopen.append(remark)
            else:
                to_keep.append(remark)
        if updates:
            cls.write(*(a for params, records in updates.items()
                    for a in (records, {'params': params})))
        if to_keep:
            cls.write(to_keep, {'last_run': run.id})
        cls.confirm(to_confirm, run)
        cls.reopen(to_reopen, run)
        cls._insert(run, {k: f for k, f in findings.items() if k not in seen})

    @classmethod
    def _insert(cls, run, findings):
        """Insert the new remarks {key: finding} of the run: one INSERT
        statement executed for all rows.  A remark is written by the
        analysis alone from what its queries found (ids of the journal's
        records, a date, a key), so it skips create's per-record reading
        back and checking, which took most of a year's first run; the
        database still checks the required columns and the references."""
        if not findings:
            return
        transaction = Transaction()
        cursor = transaction.connection.cursor()
        table = cls.__table__()
        names = sorted({n for f in findings.values() for n in f}
            & (set(cls._fields) - {'params'}))
        # The rules give ids (of references) as they are stored
        formats = [(n, cls._fields[n].sql_format
                if cls._fields[n]._type != 'many2one' else None)
            for n in names]
        rows = [[transaction.user, run.company.id, run.id, run.id, key,
                'open', json.dumps(finding.get('params', {}), sort_keys=True)]
            + [f(finding.get(n)) if f else finding.get(n)
                for n, f in formats]
            for key, finding in findings.items()]
        # The statement of the first row, its parameters in the rows' order
        query, params = tuple(table.insert(
                [table.create_uid, table.company, table.run, table.last_run,
                    table.key, table.state, Column(table, 'params')]
                + [Column(table, n) for n in names] + [table.create_date],
                [rows[0] + [CurrentTimestamp()]]))
        assert list(params) == rows[0]
        cursor.executemany(query, rows)

    @classmethod
    @Workflow.transition('confirmed')
    def confirm(cls, remarks, run):
        cls.write(remarks, {'last_run': run.id})

    @classmethod
    @Workflow.transition('reopened')
    def reopen(cls, remarks, run):
        cls.write(remarks, {'last_run': run.id})

    @classmethod
    @ModelView.button
    def fix(cls, remarks):
        "The teacher says the remark is dealt with, as the comment tells"
        remarks = [r for r in remarks if r.state in {'open', 'reopened'}]
        for remark in remarks:
            if not remark.comment:
                raise AuditError(gettext(
                        'school_ejournal_reports.msg_remark_fix_comment',
                        remark=remark.rec_name))
        # The state and the stamps are closed to the users' own writes
        with without_check_access():
            cls.write(remarks, {
                    'state': 'fixed',
                    'fixed_by': Transaction().user,
                    'fixed_at': dt.datetime.now(),
                    })
        cls.log(remarks, 'transition', 'state:fixed')

    @classmethod
    def check_modification(cls, mode, remarks, values=None, external=False):
        super().check_modification(
            mode, remarks, values=values, external=external)
        if not external:
            return
        if mode == 'create' or mode == 'delete' or (
                mode == 'write' and values.keys() - {'comment'}):
            raise RemarkAccessError(gettext(
                    'school_ejournal_reports.msg_remark_readonly'))
        if mode == 'write':
            for remark in remarks:
                if remark.state not in {'open', 'reopened'}:
                    raise RemarkAccessError(gettext(
                            'school_ejournal_reports.msg_remark_closed',
                            remark=remark.rec_name))


class AuditRunStart(ModelView):
    "Run the journal-keeping analysis"
    __name__ = 'school.audit.run.start'

    company = fields.Many2One('company.company', "School", required=True)
    scope = fields.Selection(SCOPES, "Scope", required=True)
    class_ = fields.Many2One(
        'school.class', "Class",
        states={
            'required': Eval('scope') == 'class',
            'invisible': Eval('scope') != 'class',
            })
    teacher = fields.Many2One(
        'company.employee', "Teacher",
        domain=[('company', '=', Eval('company', -1))],
        states={
            'required': Eval('scope') == 'teacher',
            'invisible': Eval('scope') != 'teacher',
            })
    window = fields.Selection(WINDOWS, "Window", required=True)
    date = fields.Date("As of", required=True)

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def default_scope(cls):
        return 'school'

    @classmethod
    def default_window(cls):
        return 'week'

    @classmethod
    def default_date(cls):
        return Pool().get('ir.date').today()


class RunAudit(Wizard):
    "Run the journal-keeping analysis"
    __name__ = 'school.audit.run.wizard'

    start = StateView('school.audit.run.start',
        'school_ejournal_reports.audit_run_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Run", 'run', 'tryton-ok', default=True),
            ])
    run = StateAction('school_ejournal_reports.act_audit_remark')

    def do_run(self, action):
        pool = Pool()
        Run = pool.get('school.audit.run')
        run = Run(
            company=self.start.company,
            scope=self.start.scope,
            class_=self.start.class_ if self.start.scope == 'class' else None,
            teacher=(self.start.teacher
                if self.start.scope == 'teacher' else None),
            window=self.start.window,
            date=self.start.date)
        run.save()
        Run.run([run])
        action['pyson_domain'] = PYSONEncoder().encode(
            [('last_run', '=', run.id)])
        action['name'] += ' — %s' % run.rec_name
        return action, {}
