# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
"""Give N parents of the demo school a login of the e-diary, in bulk.

Run by bench/diary_load.py with the venv's python:

    diary_parents.py -c CONF -d DB --count 50 --password P --out FILE

Parents with at least one child enrolled today and no login yet get a
res.user (group «Родитель», one password hash for all) named
`parent001`, `parent002`, …; parents already given one are reused.  Writes
FILE as JSON: [{"login": …, "students": [id, …]}, …].
"""
import argparse
import datetime as dt
import json
import sys

from trytond.config import update_etc


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument('-c', '--config', required=True)
    p.add_argument('-d', '--database', required=True)
    p.add_argument('--count', type=int, default=50)
    p.add_argument('--password', required=True)
    p.add_argument('--out', required=True)
    args = p.parse_args()
    update_etc(args.config)

    from trytond.pool import Pool
    from trytond.transaction import Transaction

    Pool(args.database).init()
    with Transaction().start(args.database, 0, context={
                'active_test': False}) as transaction:
        pool = Pool()
        User = pool.get('res.user')
        Parent = pool.get('school.parent')
        Guardian = pool.get('school.student.guardian')
        Enrolment = pool.get('school.enrolment')
        ModelData = pool.get('ir.model.data')
        Company = pool.get('company.company')
        today = dt.date.today()

        done = {u.login: u for u in User.search(
                [('login', 'like', 'parent%')])}
        families = {}
        for guardian in Guardian.search([], order=[('parent', 'ASC')]):
            families.setdefault(guardian.parent, []).append(
                guardian.student.id)
        enrolled = Enrolment.class_by_student(
            sorted({s for ss in families.values() for s in ss}), today)
        chosen = []
        for parent, students in families.items():
            students = [s for s in students if s in enrolled]
            if not students or not parent.active:
                continue
            if parent.user and not parent.user.login.startswith('parent'):
                continue
            chosen.append((parent, students))
            if len(chosen) == args.count:
                break
        if len(chosen) < args.count:
            sys.exit('diary_parents: only %d parents with children'
                % len(chosen))
        company, = Company.search([], limit=1)
        group = ModelData.get_id('school_ejournal', 'group_parent')
        password_hash = User.hash_password(args.password)
        to_create, result = [], []
        for k, (parent, students) in enumerate(chosen, 1):
            login = 'parent%03d' % k
            result.append({'login': login, 'students': students})
            if login in done:
                continue
            to_create.append((parent, {
                        'login': login,
                        'name': parent.rec_name,
                        'password_hash': password_hash,
                        'companies': [('add', [company.id])],
                        'company': company.id,
                        'groups': [('add', [group])],
                        }))
        if to_create:
            users = User.create([v for _, v in to_create])
            for (parent, _), user in zip(to_create, users):
                parent.user = user
            Parent.save([p for p, _ in to_create])
        transaction.commit()
    with open(args.out, 'w') as out:
        json.dump(result, out)
    print('diary_parents: %d parent logins (%d new)'
        % (len(result), len(to_create)))


if __name__ == '__main__':
    main()
