# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
"""Message threads between staff and families and among staff (U8, V2, C4).

A thread is read only by its participants: a global record rule of every
model here compares the thread's participants with the user of the request
(`school_user` of the rule context).  The participants are fixed when the
thread is created, from its kind: one parent, the parents of a class, all
staff, or a family member and the class teacher.
"""
import datetime as dt

from sql import Null
from sql.aggregate import Count

from trytond import backend
from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, Unique, fields
from trytond.model.exceptions import AccessError
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.rpc import RPC
from trytond.tools import grouped_slice
from trytond.transaction import Transaction, without_check_access

from .exceptions import MessageError

MANAGERS = ['group_school_admin', 'group_deputy_academic',
    'group_deputy_pastoral']
STAFF = MANAGERS + ['group_class_teacher', 'group_teacher']
THREAD_MODELS = {'school.message.thread', 'school.message.participant',
    'school.message', 'school.message.receipt', 'school.message.attachment',
    'school.notice', 'school.class.event'}


class Rule(metaclass=PoolMeta):
    __name__ = 'ir.rule'

    @classmethod
    def _get_context(cls, model_name):
        context = super()._get_context(model_name)
        if model_name in THREAD_MODELS:
            context['school_user'] = Transaction().user
        return context

    @classmethod
    def _get_cache_key(cls, model_names):
        key = super()._get_cache_key(model_names)
        if set(model_names) & THREAD_MODELS:
            key = (*key, Transaction().user)
        return key


def _in_groups(names):
    pool = Pool()
    User = pool.get('res.user')
    ModelData = pool.get('ir.model.data')
    groups = set(User.get_groups())
    return any(ModelData.get_id('school_ejournal', g) in groups
        for g in names)


def is_manager():
    "Whether the user is in a group that manages the whole school"
    return _in_groups(MANAGERS)


def is_staff():
    "Whether the user works at the school (a teacher, deputy, admin)"
    return _in_groups(STAFF)


def staff_users(companies=None):
    """Return the ids of the users in a staff group or with an employee,
    of the companies"""
    pool = Pool()
    User = pool.get('res.user')
    Employee = pool.get('company.employee')
    ModelData = pool.get('ir.model.data')
    groups = [ModelData.get_id('school_ejournal', g) for g in STAFF]
    with without_check_access():
        domain = []
        if companies:
            domain.append(('company', 'in', list(companies)))
        employees = Employee.search(domain, order=[])
        users = User.search(['OR',
                ('employees', 'in', [e.id for e in employees]),
                ('groups', 'in', groups),
                ], order=[])
        if companies:
            users = [u for u in users
                if not u.companies or set(companies) & {
                    c.id for c in u.companies}]
    return {u.id for u in users}


def family_users(student_ids):
    "Return the ids of the users of the parents of the students"
    pool = Pool()
    Guardian = pool.get('school.student.guardian')
    users = set()
    with without_check_access():
        for sub_ids in grouped_slice(
                list(student_ids), backend.MAX_QUERY_PARAMS):
            for guardian in Guardian.search(
                    [('student', 'in', list(sub_ids))], order=[]):
                if guardian.parent.user:
                    users.add(guardian.parent.user.id)
    return users


def class_teacher_users(class_):
    "Return the ids of the users of the class teacher of the class"
    if not class_ or not class_.class_teacher:
        return set()
    with without_check_access():
        return {u.id for u in class_.class_teacher.users}


class Thread(ModelSQL, ModelView):
    "Message Thread"
    __name__ = 'school.message.thread'

    subject = fields.Char("Subject", required=True,
        states={'readonly': Eval('id', -1) >= 0})
    kind = fields.Selection([
            ('parent', "To One Parent"),
            ('class', "To the Parents of a Class"),
            ('staff', "To All Staff"),
            ('family', "To the Class Teacher"),
            ], "Kind", required=True,
        states={'readonly': Eval('id', -1) >= 0},
        help="Who takes part: one parent, the parents of a class (with its "
        "class teacher), all staff, or a parent or student and the class "
        "teacher.")
    parent = fields.Many2One('school.parent', "Parent",
        states={
            'required': Eval('kind') == 'parent',
            'invisible': Eval('kind') != 'parent',
            'readonly': Eval('id', -1) >= 0,
            })
    class_ = fields.Many2One('school.class', "Class",
        states={
            'required': Eval('kind') == 'class',
            'invisible': Eval('kind') != 'class',
            'readonly': Eval('id', -1) >= 0,
            })
    student = fields.Many2One('school.student', "Student",
        states={
            'required': Eval('kind') == 'family',
            'invisible': ~Eval('kind').in_(['parent', 'family']),
            'readonly': Eval('id', -1) >= 0,
            },
        help="The student the thread is about.")
    author = fields.Many2One('res.user', "Author", readonly=True)
    author_name = fields.Char("From", readonly=True)
    participants = fields.One2Many('school.message.participant', 'thread',
        "Participants", readonly=True)
    messages = fields.One2Many('school.message', 'thread', "Messages")
    last_date = fields.DateTime("Last Message", readonly=True)
    unread = fields.Function(fields.Integer("Unread"), 'get_unread')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.add(Index(t, (t.last_date, Index.Range())))
        cls._order = [('last_date', 'DESC NULLS FIRST'), ('id', 'DESC')]

        cls._buttons.update({
                'mark_read': {
                    'invisible': Eval('id', -1) < 0,
                    'depends': ['id'],
                    },
                })

    @staticmethod
    def default_kind():
        return 'parent'

    @classmethod
    @ModelView.button
    def mark_read(cls, threads):
        "Mark every message of the threads as read by the user"
        Message = Pool().get('school.message')
        Message.mark_read(Message.search([
                    ('thread', 'in', [t.id for t in threads]),
                    ]))

    def get_rec_name(self, name):
        return self.subject

    @classmethod
    def get_unread(cls, threads, name):
        pool = Pool()
        Message = pool.get('school.message')
        Receipt = pool.get('school.message.receipt')
        message = Message.__table__()
        receipt = Receipt.__table__()
        cursor = Transaction().connection.cursor()
        user_id = Transaction().user
        result = {t.id: 0 for t in threads}
        for sub_ids in grouped_slice(
                [t.id for t in threads], backend.MAX_QUERY_PARAMS):
            cursor.execute(*message.join(receipt, 'LEFT',
                    condition=(receipt.message == message.id)
                    & (receipt.user == user_id)
                    ).select(message.thread, Count(message.id),
                    where=message.thread.in_(list(sub_ids))
                    & (receipt.id == Null)
                    & (message.author != user_id),
                    group_by=[message.thread]))
            result.update(dict(cursor))
        return result

    @classmethod
    def participants_of(cls, values, author_id):
        """Return the user ids taking part in a new thread of the values,
        raising MessageError when the author may not start it"""
        pool = Pool()
        User = pool.get('res.user')
        Parent = pool.get('school.parent')
        Class = pool.get('school.class')
        Student = pool.get('school.student')
        Enrolment = pool.get('school.enrolment')
        kind = values.get('kind')
        check = Transaction().check_access and author_id != 0
        scope = User.get_school_scope()
        manager = is_manager()
        users = {author_id}
        target = {'parent': 'parent', 'class': 'class_', 'family': 'student',
            'staff': None}
        if kind not in target or (
                target[kind] and not values.get(target[kind])):
            raise MessageError(gettext(
                    'school_ejournal_messaging.msg_thread_no_target',
                    thread=values.get('subject')))
        with without_check_access():
            if kind == 'staff':
                if check and not (scope['employees'] or is_staff()):
                    raise MessageError(gettext(
                            'school_ejournal_messaging.msg_thread_not_staff',
                            thread=values.get('subject')))
                users |= staff_users(User.get_companies() or None)
            elif kind == 'class':
                class_ = Class(values['class_'])
                classes = set(scope['led_classes']) | set(
                    scope['taught_classes'])
                if check and not manager and class_.id not in classes:
                    raise MessageError(gettext(
                            'school_ejournal_messaging.msg_thread_class',
                            thread=values.get('subject'),
                            class_=class_.rec_name))
                students = Enrolment.students_by_class([class_.id]).get(
                    class_.id, [])
                users |= family_users(students)
                users |= class_teacher_users(class_)
            elif kind == 'parent':
                parent = Parent(values['parent'])
                classes = set(scope['led_classes']) | set(
                    scope['taught_classes'])
                children = [g.student.id for g in parent.children]
                their = set(Enrolment.class_by_student(children).values())
                if check and not manager and not (their & classes):
                    raise MessageError(gettext(
                            'school_ejournal_messaging.msg_thread_parent',
                            thread=values.get('subject'),
                            parent=parent.rec_name))
                if not parent.user:
                    raise MessageError(gettext(
                            'school_ejournal_messaging.msg_thread_no_login',
                            thread=values.get('subject'),
                            parent=parent.rec_name))
                users.add(parent.user.id)
            elif kind == 'family':
                student = Student(values['student'])
                family = set(scope['children']) | set(scope['self_students'])
                if check and student.id not in family:
                    raise MessageError(gettext(
                            'school_ejournal_messaging.msg_thread_family',
                            thread=values.get('subject'),
                            student=student.rec_name))
                class_id = Enrolment.class_by_student([student.id]).get(
                    student.id)
                teachers = class_teacher_users(
                    Class(class_id) if class_id else None)
                if not teachers:
                    raise MessageError(gettext(
                            'school_ejournal_messaging'
                            '.msg_thread_no_class_teacher',
                            thread=values.get('subject'),
                            student=student.rec_name))
                users |= teachers
        return users

    @classmethod
    def create(cls, vlist):
        pool = Pool()
        User = pool.get('res.user')
        Message = pool.get('school.message')
        Participant = pool.get('school.message.participant')
        author_id = Transaction().user
        with without_check_access():
            author_name = User(author_id).rec_name
        vlist = [v.copy() for v in vlist]
        messages, participants = [], []
        for values in vlist:
            if not (values.get('subject') or '').strip():
                raise MessageError(gettext(
                        'school_ejournal_messaging.msg_thread_no_subject'))
            for action in values.get('messages') or []:
                if action[0] == 'create' and any(
                        not (m.get('body') or '').strip()
                        for m in action[1]):
                    raise MessageError(gettext(
                            'school_ejournal_messaging.msg_message_empty'))
            users = cls.participants_of(values, author_id)
            with without_check_access():
                names = {u.id: u.rec_name for u in User.browse(list(users))}
            values['author'] = author_id
            values['author_name'] = author_name
            values.pop('participants', None)
            participants.append([{'user': u, 'name': names[u]}
                    for u in sorted(users)])
            messages.append(values.pop('messages', None))
        # The participants come from the kind, never from the request: the
        # author was checked above (the thread's record rule is not applied
        # to its creation for this reason)
        threads = super().create(vlist)
        with without_check_access():
            Participant.create([{**p, 'thread': thread.id}
                    for thread, ps in zip(threads, participants)
                    for p in ps])
        to_create = []
        for thread, actions in zip(threads, messages):
            for action in actions or []:
                if action[0] == 'create':
                    to_create.extend(
                        {**v, 'thread': thread.id} for v in action[1])
        if to_create:
            Message.create(to_create)
        return threads

    @classmethod
    def write(cls, *args):
        "Only messages are added to a thread; the rest is fixed"
        actions = iter(args)
        for threads, values in zip(actions, actions):
            fixed = set(values) - {'messages', 'last_date'}
            if fixed and Transaction().check_access:
                raise AccessError(gettext(
                        'school_ejournal_messaging.msg_thread_fixed',
                        thread=threads[0].rec_name if threads else ''))
        super().write(*args)

    @classmethod
    def start(cls, values, body):
        "Create a thread of the values with its first message"
        thread, = cls.create([{**values, 'messages': [('create', [{
                                'body': body}])]}])
        return thread


class Participant(ModelSQL, ModelView):
    "Thread Participant"
    __name__ = 'school.message.participant'

    thread = fields.Many2One('school.message.thread', "Thread",
        required=True, ondelete='CASCADE')
    user = fields.Many2One('res.user', "User", required=True,
        ondelete='CASCADE')
    name = fields.Char("Name", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('thread_user_unique', Unique(t, t.thread, t.user),
                'school_ejournal_messaging.msg_participant_unique'),
            ]
        cls._sql_indexes.add(Index(t, (t.user, Index.Equality())))


class Message(ModelSQL, ModelView):
    "Message"
    __name__ = 'school.message'

    thread = fields.Many2One('school.message.thread', "Thread",
        required=True, ondelete='CASCADE')
    author = fields.Many2One('res.user', "Author", readonly=True)
    author_name = fields.Char("From", readonly=True)
    date = fields.DateTime("Date", readonly=True)
    body = fields.Text("Text", required=True,
        states={'readonly': Eval('id', -1) >= 0})
    attachments = fields.One2Many('school.message.attachment', 'message',
        "Attachments", states={'readonly': Eval('id', -1) >= 0})
    receipts = fields.One2Many('school.message.receipt', 'message',
        "Read By", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.add(Index(t, (t.thread, Index.Equality()),
                (t.date, Index.Range())))
        cls._order = [('date', 'ASC'), ('id', 'ASC')]
        cls.__rpc__.update({
                'mark_read': RPC(readonly=False, instantiate=0),
                })

    def get_rec_name(self, name):
        return '%s, %s' % (self.author_name or '',
            self.date.strftime('%d.%m.%Y %H:%M') if self.date else '')

    @classmethod
    def create(cls, vlist):
        pool = Pool()
        User = pool.get('res.user')
        Thread = pool.get('school.message.thread')
        Participant = pool.get('school.message.participant')
        transaction = Transaction()
        author_id = transaction.user
        now = dt.datetime.now()
        with without_check_access():
            author_name = User(author_id).rec_name
        vlist = [v.copy() for v in vlist]
        for values in vlist:
            if not (values.get('body') or '').strip():
                raise MessageError(gettext(
                        'school_ejournal_messaging.msg_message_empty'))
            thread_id = values.get('thread')
            if transaction.check_access and author_id != 0:
                with without_check_access():
                    taking_part = Participant.search([
                            ('thread', '=', thread_id),
                            ('user', '=', author_id),
                            ], limit=1)
                    if not taking_part:
                        thread = Thread(thread_id) if thread_id else None
                        raise MessageError(gettext(
                                'school_ejournal_messaging'
                                '.msg_message_not_participant',
                                thread=thread.subject if thread else ''))
            values['author'] = author_id
            values['author_name'] = author_name
            values['date'] = now
        messages = super().create(vlist)
        with without_check_access():
            Thread.write(Thread.browse({m.thread.id for m in messages}),
                {'last_date': now})
        cls.mark_read(messages)
        cls.notify(messages)
        return messages

    @classmethod
    def write(cls, *args):
        if Transaction().check_access:
            actions = iter(args)
            for messages, values in zip(actions, actions):
                raise AccessError(gettext(
                        'school_ejournal_messaging.msg_message_fixed',
                        message=messages[0].rec_name if messages else ''))
        super().write(*args)

    @classmethod
    def mark_read(cls, messages):
        """Record that the user read the messages (once, with the time of
        the first reading); the user must take part in their threads, as
        the record rule of the messages he could read already says"""
        pool = Pool()
        Receipt = pool.get('school.message.receipt')
        user_id = Transaction().user
        if not messages:
            return
        # Read through the record rules: a message of another's thread
        # raises an AccessError here
        messages = cls.browse([m.id for m in messages])
        cls.read([m.id for m in messages], ['thread'])
        with without_check_access():
            done = {r.message.id for r in Receipt.search([
                        ('message', 'in', [m.id for m in messages]),
                        ('user', '=', user_id),
                        ])}
            now = dt.datetime.now()
            Receipt.create([{
                        'message': m.id,
                        'user': user_id,
                        'date': now,
                        } for m in messages if m.id not in done])

    @classmethod
    def notify(cls, messages):
        """Tell by e-mail, through the outbox and in the same transaction,
        the parents taking part in each message's thread (other than its
        author) who consented to e-mail.  Return [(message, [user ids])]:
        the participants to tell."""
        pool = Pool()
        Participant = pool.get('school.message.participant')
        result = []
        with without_check_access():
            for message in messages:
                users = [p.user.id for p in Participant.search([
                            ('thread', '=', message.thread.id),
                            ('user', '!=', message.author.id),
                            ])]
                result.append((message, users))
        cls._enqueue_emails(result)
        return result

    @classmethod
    def _enqueue_emails(cls, notices):
        pool = Pool()
        Parent = pool.get('school.parent')
        Outbox = pool.get('school.message.outbox')
        Configuration = pool.get('ir.configuration')
        user_ids = sorted({u for _, users in notices for u in users})
        if not user_ids:
            return
        with without_check_access():
            parents = {p.user.id: p for p in Parent.search([
                        ('user', 'in', user_ids),
                        ('email_consent', '=', True),
                        ('email', '!=', None),
                        ])}
        rows = []
        with Transaction().set_context(language=Configuration.get_language()):
            for message, users in notices:
                for user_id in users:
                    parent = parents.get(user_id)
                    if not parent or not parent.email:
                        continue
                    thread = message.thread.subject
                    rows.append({
                            'key': 'message:%s:%s' % (message.id, user_id),
                            'channel': 'email',
                            'recipient': parent.email,
                            'subject': gettext(
                                'school_ejournal_messaging'
                                '.msg_new_message_subject', thread=thread),
                            'body': gettext(
                                'school_ejournal_messaging'
                                '.msg_new_message_email',
                                author=message.author_name or '',
                                thread=thread, body=message.body),
                            'parent': parent.id,
                            })
        Outbox.enqueue(rows)


class Receipt(ModelSQL, ModelView):
    "Message Receipt"
    __name__ = 'school.message.receipt'

    message = fields.Many2One('school.message', "Message", required=True,
        ondelete='CASCADE')
    user = fields.Many2One('res.user', "User", required=True,
        ondelete='CASCADE')
    user_name = fields.Function(fields.Char("Read By"), 'get_user_name')
    date = fields.DateTime("Read", required=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('message_user_unique', Unique(t, t.message, t.user),
                'school_ejournal_messaging.msg_receipt_unique'),
            ]
        cls._order = [('date', 'ASC'), ('id', 'ASC')]

    @classmethod
    def get_user_name(cls, receipts, name):
        pool = Pool()
        Participant = pool.get('school.message.participant')
        result = {}
        with without_check_access():
            for receipt in receipts:
                participants = Participant.search([
                        ('thread', '=', receipt.message.thread.id),
                        ('user', '=', receipt.user.id),
                        ], limit=1)
                result[receipt.id] = (participants[0].name
                    if participants else None)
        return result


class Attachment(ModelSQL, ModelView):
    "Message Attachment"
    __name__ = 'school.message.attachment'

    message = fields.Many2One('school.message', "Message", required=True,
        ondelete='CASCADE')
    name = fields.Char("File Name", required=True)
    data = fields.Binary("File", filename='name', required=True)
    size = fields.Integer("Size", readonly=True)

    @classmethod
    def create(cls, vlist):
        pool = Pool()
        Message = pool.get('school.message')
        transaction = Transaction()
        vlist = [v.copy() for v in vlist]
        for values in vlist:
            if transaction.check_access and transaction.user != 0:
                with without_check_access():
                    message = Message(values['message'])
                    own = message.author and (
                        message.author.id == transaction.user)
                if not own:
                    raise MessageError(gettext(
                            'school_ejournal_messaging.msg_attachment_own',
                            name=values.get('name')))
            values['size'] = len(values.get('data') or b'')
        return super().create(vlist)
