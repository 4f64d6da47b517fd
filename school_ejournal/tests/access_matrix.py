"""The school's access matrix: which role may read, write, create, delete
which model.

`python -m school_ejournal.tests.access_matrix > school_ejournal/access.xml`
writes the module's ir.model.access records from it; the access-matrix test
(test_module.py) checks, as a user of each role, that the running system
grants exactly this.
"""
ROLES = [
    'school_admin', 'deputy_academic', 'deputy_pastoral',
    'class_teacher', 'teacher', 'parent', 'student',
    ]
# model: {role: perms}; perms is a string of r, w, c, d
MATRIX = {
    'school.year': dict(
        school_admin='rwcd', deputy_academic='rwcd', deputy_pastoral='r',
        class_teacher='r', teacher='r', parent='r', student='r'),
    'school.period': dict(
        school_admin='rwcd', deputy_academic='rwcd', deputy_pastoral='r',
        class_teacher='r', teacher='r', parent='r', student='r'),
    'school.holiday': dict(
        school_admin='rwcd', deputy_academic='rwcd', deputy_pastoral='r',
        class_teacher='r', teacher='r', parent='r', student='r'),
    'school.holiday-school.level': dict(
        school_admin='rwcd', deputy_academic='rwcd', deputy_pastoral='r',
        class_teacher='r', teacher='r', parent='r', student='r'),
    'school.level': dict(
        school_admin='rwcd', deputy_academic='rwcd', deputy_pastoral='r',
        class_teacher='r', teacher='r', parent='r', student='r'),
    'school.subject': dict(
        school_admin='rwcd', deputy_academic='rwcd', deputy_pastoral='r',
        class_teacher='r', teacher='r', parent='r', student='r'),
    'school.class': dict(
        school_admin='rwcd', deputy_academic='rwcd', deputy_pastoral='r',
        class_teacher='r', teacher='r', parent='r', student='r'),
    'school.subgroup': dict(
        school_admin='rwcd', deputy_academic='rwcd', deputy_pastoral='r',
        class_teacher='rwcd', teacher='r'),
    'school.subgroup-school.student': dict(
        school_admin='rwcd', deputy_academic='rwcd', deputy_pastoral='r',
        class_teacher='rwcd', teacher='r'),
    'school.student': dict(
        school_admin='rwcd', deputy_academic='r', deputy_pastoral='r',
        class_teacher='rw', teacher='r', parent='r', student='r'),
    'school.parent': dict(
        school_admin='rwcd', deputy_academic='r', deputy_pastoral='r',
        class_teacher='rwc', parent='r'),
    # Read as the student is (__access__): a teacher reads the parents of
    # her pupils, a student her own
    'school.student.guardian': dict(
        school_admin='rwcd', deputy_academic='r', deputy_pastoral='r',
        class_teacher='rwcd', teacher='r', parent='r', student='r'),
    'school.enrolment': dict(
        school_admin='rwc', deputy_academic='r', deputy_pastoral='r',
        class_teacher='r', teacher='r', parent='r', student='r'),
    'school.order': dict(
        school_admin='rwcd', deputy_academic='r', deputy_pastoral='r'),
    'school.order.line': dict(
        school_admin='rwcd', deputy_academic='r', deputy_pastoral='r'),
    'school.curriculum.line': dict(
        school_admin='rwcd', deputy_academic='rwcd', deputy_pastoral='r',
        class_teacher='r', teacher='r'),
    'school.teaching': dict(
        school_admin='rwcd', deputy_academic='rwcd', deputy_pastoral='r',
        class_teacher='r', teacher='r'),
    'school.configuration': dict(
        school_admin='rw', deputy_academic='rw', deputy_pastoral='r',
        class_teacher='r', teacher='r', parent='r', student='r'),
    'school.bell': dict(
        school_admin='rwcd', deputy_academic='rwcd', deputy_pastoral='r',
        class_teacher='r', teacher='r', parent='r', student='r'),
    'school.timetable': dict(
        school_admin='rwcd', deputy_academic='rwcd', deputy_pastoral='r',
        class_teacher='r', teacher='r', parent='r', student='r'),
    'school.lesson': dict(
        school_admin='rwcd', deputy_academic='rwcd', deputy_pastoral='r',
        class_teacher='r', teacher='rw', parent='r', student='r'),
    'school.lesson.task': dict(
        school_admin='rwcd', deputy_academic='rwcd', deputy_pastoral='r',
        class_teacher='r', teacher='rwcd', parent='r', student='r'),
    'school.lesson.attendance': dict(
        school_admin='rwcd', deputy_academic='rwcd', deputy_pastoral='r',
        class_teacher='rw', teacher='rwcd', parent='r', student='r'),
    'school.task.type': dict(
        school_admin='rwcd', deputy_academic='rwcd', deputy_pastoral='r',
        class_teacher='r', teacher='r', parent='r', student='r'),
    'school.substitution': dict(
        school_admin='rwcd', deputy_academic='rwcd', deputy_pastoral='r',
        class_teacher='r', teacher='r'),
    'school.mark': dict(
        school_admin='r', deputy_academic='rw', deputy_pastoral='r',
        class_teacher='r', teacher='rc', parent='r', student='r'),
    'school.mark.correction': dict(
        school_admin='r', deputy_academic='rw', deputy_pastoral='r',
        class_teacher='r', teacher='rc', parent='r', student='r'),
    'school.grade': dict(
        school_admin='r', deputy_academic='rwcd', deputy_pastoral='r',
        class_teacher='r', teacher='rwc', parent='r', student='r'),
    'school.class.week': dict(
        school_admin='r', deputy_academic='r', deputy_pastoral='r',
        class_teacher='r'),
    'school.student.subject_summary': dict(
        school_admin='r', deputy_academic='r', deputy_pastoral='r',
        class_teacher='r', parent='r', student='r'),
    'school.thematic_plan': dict(
        school_admin='r', deputy_academic='rwcd', deputy_pastoral='r',
        class_teacher='r', teacher='rwcd'),
    'school.thematic_plan.line': dict(
        school_admin='r', deputy_academic='rwcd', deputy_pastoral='r',
        class_teacher='r', teacher='rwcd'),
    # The scheduled backup's retention and last run: the administrator's
    'school.backup.configuration': dict(school_admin='rw'),
    }


def xml_id(model, role=None):
    base = 'access_' + model.replace('.', '_').replace('-', '_')
    return base + ('_' + role if role else '')


def main():
    out = ['<?xml version="1.0"?>',
        '<!-- Generated by school_ejournal/tests/access_matrix.py: '
        'edit the matrix there.'
        ' -->',
        '<tryton>', '    <data>']
    for model, grants in MATRIX.items():
        out.append(
            f'        <record model="ir.model.access" id="{xml_id(model)}">')
        out.append(f'            <field name="model">{model}</field>')
        for perm in ['read', 'write', 'create', 'delete']:
            out.append(
                f'            <field name="perm_{perm}" eval="False"/>')
        out.append('        </record>')
        for role, perms in grants.items():
            out.append('        <record model="ir.model.access" '
                f'id="{xml_id(model, role)}">')
            out.append(f'            <field name="model">{model}</field>')
            out.append(
                f'            <field name="group" ref="group_{role}"/>')
            for perm in ['read', 'write', 'create', 'delete']:
                value = perm[0] in perms
                out.append(f'            <field name="perm_{perm}" '
                    f'eval="{value}"/>')
            out.append('        </record>')
    out += ['    </data>', '</tryton>']
    print('\n'.join(out))


if __name__ == '__main__':
    main()
