"""The school's access matrix: which role may read, write, create, delete
which model.

`python -m school_ejournal.tests.access_matrix` writes the module's
ir.model.access records from it, each model's rows at the end of the .xml
file of the .py file that defines the model (between the two "access rows"
comments); `--check` only says which files differ.  test_module.py checks
that the files hold exactly these rows and, as a user of each role, that the
running system grants exactly this; test_closed_fields.py tries each
operation through the RPC layer.
"""
import ast
import os
import re
import sys

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
    # The administrator's completeness of the students' personal data
    'school.class.completeness': dict(
        school_admin='r', deputy_academic='r', deputy_pastoral='r'),
    # The scheduled backup's retention and last run: the administrator's
    'school.backup.configuration': dict(school_admin='rw'),
    }


BEGIN = '    <!-- access rows: generated by tests/access_matrix.py -->'
END = '    <!-- end of access rows -->'
MODULE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def xml_id(model, role=None):
    base = 'access_' + model.replace('.', '_').replace('-', '_')
    return base + ('_' + role if role else '')


def defining_files():
    "Map each model to the .py file whose class defines it (not extends it)"
    result = {}
    for name in sorted(os.listdir(MODULE)):
        if not name.endswith('.py'):
            continue
        with open(os.path.join(MODULE, name)) as file:
            tree = ast.parse(file.read())
        for node in tree.body:
            if not isinstance(node, ast.ClassDef):
                continue
            if any(k.arg == 'metaclass' for k in node.keywords):
                continue
            for item in node.body:
                if (isinstance(item, ast.Assign)
                        and any(getattr(t, 'id', None) == '__name__'
                            for t in item.targets)
                        and isinstance(item.value, ast.Constant)):
                    result[item.value.value] = name
    return result


def record_lines(model, role, perms):
    lines = ['        <record model="ir.model.access" '
        f'id="{xml_id(model, role)}">',
        f'            <field name="model">{model}</field>']
    if role:
        lines.append(f'            <field name="group" ref="group_{role}"/>')
    for perm in ['read', 'write', 'create', 'delete']:
        lines.append(f'            <field name="perm_{perm}" '
            f'eval="{perm[0] in perms}"/>')
    lines.append('        </record>')
    return lines


def blocks():
    "The generated block of each .xml file"
    files = defining_files()
    result = {}
    for model, grants in MATRIX.items():
        xml = files[model][:-len('.py')] + '.xml'
        lines = result.setdefault(xml, [])
        lines.extend(record_lines(model, None, ''))
        for role, perms in grants.items():
            lines.extend(record_lines(model, role, perms))
    return {
        xml: '\n'.join([BEGIN, '    <data>'] + lines + ['    </data>', END])
        for xml, lines in result.items()}


def without_block(text):
    return re.sub(
        r'\n' + re.escape(BEGIN) + r'.*?' + re.escape(END), '', text,
        flags=re.S)


def written(xml, block):
    with open(os.path.join(MODULE, xml)) as file:
        text = without_block(file.read())
    if block:
        head, tail = text.rsplit('</tryton>', 1)
        text = head + block + '\n</tryton>' + tail
    return text


def differing():
    "The .xml files whose access rows differ from the matrix, with the text"
    generated = blocks()
    result = {}
    for xml in sorted(os.listdir(MODULE)):
        if not xml.endswith('.xml'):
            continue
        text = written(xml, generated.get(xml))
        with open(os.path.join(MODULE, xml)) as file:
            if file.read() != text:
                result[xml] = text
    return result


def main(argv):
    changed = differing()
    for xml, text in changed.items():
        print(xml)
        if '--check' not in argv:
            with open(os.path.join(MODULE, xml), 'w') as file:
                file.write(text)
    return 1 if changed and '--check' in argv else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
