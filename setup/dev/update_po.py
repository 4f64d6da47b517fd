#!/usr/bin/env python3
"""Regenerate a module's translation file from its current strings.

    .venv/bin/python setup/dev/update_po.py [--module school_ejournal] [--lang ru]

What it does, the way a Tryton developer does it by hand:

1. creates a throw-away SQLite database in a temporary folder and activates the
   module (and its dependencies) with ``trytond-admin``;
2. runs the wizards "Set Translations" (report and view strings), "Clean
   Translations" and "Update Translations" (creates the rows of LANG for every
   source string) and exports the module's template with
   ``ir.translation.translation_export`` -- exactly what the "Export
   Translations" wizard writes and what Tryton's own ``locale/*.po`` are;
3. merges the translations of the current ``<module>/locale/<lang>.po``:
   same context and source -> kept as is; same context but a changed source
   (a field label or message that was reworded) -> kept, flagged ``fuzzy``
   (Tryton ignores fuzzy rows: review and remove the flag); entries that no
   longer exist are dropped (and listed);
4. writes the file sorted by (msgctxt, msgid) like Tryton, and prints counts.

``--check`` writes nothing and exits with 1 when the file would change or
anything is untranslated/fuzzy.  ``--check-override`` validates
``<module>/locale/override/<lang>.po`` against the installed modules'
``locale/<lang>.po``: Tryton's ``override_translation`` needs the overridden
row to exist (``translation, = cls.search(...)``) or loading the module fails,
and an override whose text equals a *fuzzy* core text does not clear the fuzzy
flag (so it stays untranslated).  ``--prune-override`` removes the entries
that would break loading.
"""
import argparse
import importlib.util
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DB_NAME = 'update_po'


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--module', default='school_ejournal',
        help="module to update (school_ejournal, school_ejournal_reports, "
        "school_ejournal_messaging, ...)")
    parser.add_argument('--lang', default='ru', help="language code")
    parser.add_argument('--po', type=Path,
        help="file to write (default: <module>/locale/<lang>.po)")
    parser.add_argument('--check', action='store_true',
        help="write nothing; exit 1 if the file is not up to date "
        "or not completely translated")
    parser.add_argument('--check-override', action='store_true',
        help="only validate <module>/locale/override/<lang>.po against the "
        "installed modules (no database needed)")
    parser.add_argument('--prune-override', action='store_true',
        help="with --check-override: remove the entries whose target "
        "translation does not exist")
    parser.add_argument('--keep-db', action='store_true',
        help="keep the temporary database and print its folder")
    parser.add_argument('-v', '--verbose', action='store_true',
        help="show trytond-admin output")
    return parser.parse_args()


def module_directory(module):
    "Folder of the module: the repository's copy first, then the installed one"
    local = ROOT / module
    if (local / 'tryton.cfg').exists():
        return local
    spec = importlib.util.find_spec(module)
    if spec is None:
        spec = importlib.util.find_spec('trytond.modules.' + module)
    if spec is None or not spec.submodule_search_locations:
        sys.exit(f"module {module!r} not found")
    return Path(list(spec.submodule_search_locations)[0])


def clean_environment(tmp):
    "Environment for trytond: only our SQLite settings, no config file"
    env = {k: v for k, v in os.environ.items()
        if not k.startswith('TRYTOND_') and k not in {'DB_NAME'}}
    env['TRYTOND_DATABASE__URI'] = 'sqlite://'
    env['TRYTOND_DATABASE__PATH'] = str(tmp)
    env['TRYTOND_DATABASE__LANGUAGE'] = 'en'
    return env


def trytond_admin():
    script = Path(sys.executable).parent / 'trytond-admin'
    if script.exists():
        return [sys.executable, str(script)]
    return [sys.executable, '-c',
        'import sys; from trytond.admin import run; '
        'from trytond.commandline import get_parser_admin; '
        'from trytond import config; '
        'opt = get_parser_admin().parse_args(); '
        'config.update_etc(opt.configfile); run(opt)']


def activate(tmp, module, verbose):
    env = clean_environment(tmp)
    (tmp / f'{DB_NAME}.sqlite').touch()
    passfile = tmp / 'admin-password'
    passfile.write_text('admin-password-for-update-po\n')
    env['TRYTONPASSFILE'] = str(passfile)
    cmd = trytond_admin() + [
        '-d', DB_NAME, '-u', module, '--activate-dependencies',
        '--email', 'admin@example.com']
    result = subprocess.run(cmd, env=env, cwd=tmp,
        stdout=None if verbose else subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True)
    if result.returncode:
        if not verbose:
            sys.stderr.write(result.stdout[-8000:])
        sys.exit(f"trytond-admin failed ({result.returncode})")


def export_template(tmp, module, lang):
    "Return the module's template exported by Tryton (str)"
    os.environ.clear()
    os.environ.update(clean_environment(tmp))
    from trytond.pool import Pool
    from trytond.transaction import Transaction

    Pool.start()
    pool = Pool(DB_NAME)
    pool.init()

    def run_wizard(name, state, data=None):
        Wizard = pool.get(name, type='wizard')
        session_id, _, _ = Wizard.create()
        try:
            Wizard.execute(session_id, data or {}, state)
        finally:
            Wizard.delete(session_id)

    # Same steps as Administration > Localization > Translations in the
    # client, each in a transaction of its own like the client's requests:
    # the "Update" wizard creates rows with the ORM and fills their source
    # with raw SQL, so in the same transaction the ORM cache would still hold
    # the empty sources and the export would silently skip those entries.
    with Transaction().start(DB_NAME, 0, context={'language': 'en'}):
        Module = pool.get('ir.module')
        module_record, = Module.search([('name', '=', module)])
        if module_record.state != 'activated':
            sys.exit(f"module {module} is {module_record.state}")
        Lang = pool.get('ir.lang')
        langs = Lang.search([('code', '=', lang)])
        if not langs:
            sys.exit(f"language {lang!r} unknown to Tryton")
        lang_id = langs[0].id
    with Transaction().start(DB_NAME, 0, context={'language': 'en'}):
        run_wizard('ir.translation.set', 'set_')
    with Transaction().start(DB_NAME, 0, context={'language': 'en'}):
        run_wizard('ir.translation.clean', 'clean')
    with Transaction().start(DB_NAME, 0, context={'language': 'en'}):
        run_wizard('ir.translation.update', 'update',
            {'start': {'language': lang_id}})
    with Transaction().start(DB_NAME, 0, context={'language': 'en'},
            readonly=True) as transaction:
        Translation = pool.get('ir.translation')
        content = Translation.translation_export(lang, module)
        # Cross-check: the export must hold every source string of the
        # module (the rows Tryton keeps in the default language)
        cursor = transaction.connection.cursor()
        table = Translation.__table__()
        cursor.execute(*table.select(table.id,
                where=(table.lang == 'en') & (table.module == module)
                & (table.src != '') & (table.src != None)))  # noqa: E711
        expected = len(cursor.fetchall())
    exported = (content or b'').decode('utf-8').count('\nmsgctxt ')
    if exported != expected:
        sys.exit(f"export holds {exported} entries, "
            f"but the module has {expected} source strings")
    return (content or b'').decode('utf-8')


def load_po(path):
    import polib
    if path.exists():
        return polib.pofile(str(path), wrapwidth=78)
    return None


PLACEHOLDER = re.compile(r'%\([a-z_][a-z0-9_]*\)[sdifr]|%[sdifr]', re.I)


def placeholder_errors(entries):
    "Entries whose translation does not keep the %(name)s placeholders"
    errors = []
    for entry in entries:
        values = (list(entry.msgstr_plural.values()) if entry.msgid_plural
            else [entry.msgstr])
        expected = sorted(PLACEHOLDER.findall(entry.msgid))
        for value in values:
            if value and sorted(PLACEHOLDER.findall(value)) != expected:
                errors.append(entry)
                break
    return errors


def is_translated(entry):
    if 'fuzzy' in entry.flags:
        return False
    if entry.msgid_plural:
        return bool(entry.msgstr_plural) and all(entry.msgstr_plural.values())
    return bool(entry.msgstr)


def merge(template, old):
    """Copy translations from old into template.
    Return (kept, reworded, obsolete entries)."""
    kept = reworded = 0
    if old is None:
        return kept, reworded, []
    by_key = {}
    by_ctxt = {}
    for entry in old:
        if entry.obsolete:
            continue
        by_key[(entry.msgctxt, entry.msgid, entry.msgid_plural or '')] = entry
        by_ctxt.setdefault(entry.msgctxt, []).append(entry)
    used = set()
    for entry in template:
        key = (entry.msgctxt, entry.msgid, entry.msgid_plural or '')
        source = by_key.get(key)
        fuzzy = False
        if source is None:
            # Reworded source: the context (type:name:fs_id) is unchanged for
            # field, model, help and message rows; keep as a hint, fuzzy
            candidates = [e for e in by_ctxt.get(entry.msgctxt, [])
                if id(e) not in used and (e.msgstr or e.msgstr_plural)]
            ttype = (entry.msgctxt or '').split(':')[0]
            if len(candidates) == 1 and ttype in {'field', 'model', 'help'}:
                source = candidates[0]
                fuzzy = True
        if source is None:
            continue
        used.add(id(source))
        if entry.msgid_plural:
            if source.msgstr_plural:
                entry.msgstr_plural = dict(source.msgstr_plural)
        else:
            entry.msgstr = source.msgstr
        if fuzzy or 'fuzzy' in source.flags:
            if 'fuzzy' not in entry.flags:
                entry.flags.append('fuzzy')
            if fuzzy:
                entry.previous_msgid = source.msgid
            reworded += fuzzy
        elif is_translated(entry):
            kept += 1
    obsolete = [e for e in old
        if not e.obsolete and id(e) not in used
        and (e.msgstr or e.msgstr_plural)]
    return kept, reworded, obsolete


def update(args):
    import polib
    directory = module_directory(args.module)
    po_path = args.po or directory / 'locale' / f'{args.lang}.po'
    tmp = Path(tempfile.mkdtemp(prefix='update_po-'))
    try:
        activate(tmp, args.module, args.verbose)
        content = export_template(tmp, args.module, args.lang)
    finally:
        if args.keep_db:
            print(f"database kept in {tmp}", file=sys.stderr)
        else:
            import shutil
            shutil.rmtree(tmp, ignore_errors=True)
    if not content:
        sys.exit(f"module {args.module} has no translatable string")
    template = polib.pofile(content, wrapwidth=78)
    template.metadata = {'Content-Type': 'text/plain; charset=utf-8'}
    old = load_po(po_path)
    kept, reworded, obsolete = merge(template, old)
    # the export is already sorted; sort again after the merge to be safe
    template.sort(key=lambda e: (e.msgctxt or '', e.msgid))
    text = str(template) + '\n'

    current = po_path.read_text(encoding='utf-8') if po_path.exists() else ''
    changed = current != text
    if changed and not args.check:
        po_path.parent.mkdir(parents=True, exist_ok=True)
        po_path.write_text(text, encoding='utf-8')

    entries = [e for e in template if not e.obsolete]
    untranslated = [e for e in entries if not is_translated(e)]
    fuzzy = [e for e in untranslated if 'fuzzy' in e.flags]
    bad_placeholders = placeholder_errors(entries)
    try:
        shown = po_path.resolve().relative_to(ROOT)
    except ValueError:
        shown = po_path
    print(f"{shown}:")
    print(f"  entries:      {len(entries)}")
    print(f"  translated:   {len(entries) - len(untranslated)}")
    print(f"  untranslated: {len(untranslated)}"
        + (f" (of which fuzzy/reworded: {len(fuzzy)})" if fuzzy else ''))
    print(f"  kept from previous file: {kept}; reworded (fuzzy): {reworded}; "
        f"dropped (no longer in module): {len(obsolete)}")
    for entry in obsolete:
        print(f"  - dropped  {entry.msgctxt}  {entry.msgid!r}")
    for entry in untranslated:
        flag = 'fuzzy   ' if 'fuzzy' in entry.flags else 'missing '
        print(f"  - {flag} {entry.msgctxt}  {entry.msgid!r}")
    for entry in bad_placeholders:
        print(f"  ! placeholders differ: {entry.msgctxt}  {entry.msgid!r}")
    if args.check:
        if changed:
            print("  file is NOT up to date (run without --check)")
        return 1 if (changed or untranslated or bad_placeholders) else 0
    print("  written" if changed else "  unchanged")
    return 1 if bad_placeholders else 0


def installed_po(module, lang):
    if module in {'ir', 'res'}:
        import trytond
        base = Path(trytond.__file__).parent / module
    else:
        base = module_directory(module)
    return base / 'locale' / f'{lang}.po'


def check_override(args):
    "Validate the override file against the installed modules' po files"
    import polib
    directory = module_directory(args.module)
    path = directory / 'locale' / 'override' / f'{args.lang}.po'
    if not path.exists():
        print(f"{path}: no override file")
        return 0
    override = polib.pofile(str(path), wrapwidth=78)
    targets = {}
    problems = []
    stats = {}
    keep = []
    for entry in override:
        if entry.obsolete:
            continue
        ttype, name, res_id = entry.msgctxt.split(':')
        if '.' not in res_id:
            keep.append(entry)
            continue
        module, fs_id = res_id.split('.')
        if module not in targets:
            po = installed_po(module, args.lang)
            targets[module] = {}
            if po.exists():
                for e in polib.pofile(str(po)):
                    targets[module].setdefault(e.msgctxt, []).append(e)
        ctxt = f'{ttype}:{name}:{fs_id}'
        candidates = targets[module].get(ctxt, [])
        if ttype in {'report', 'view', 'wizard_button', 'selection'}:
            candidates = [e for e in candidates
                if e.msgid == entry.msgid
                and (e.msgid_plural or '') == (entry.msgid_plural or '')]
        st = stats.setdefault(module, [0, 0])
        if len(candidates) != 1:
            problems.append(('MISSING' if not candidates else 'AMBIGUOUS',
                    entry))
            continue
        target, = candidates
        if entry.msgid != target.msgid:
            problems.append(('SOURCE CHANGED', entry))
        if (entry.msgstr == target.msgstr
                and 'fuzzy' in target.flags and 'fuzzy' not in entry.flags):
            problems.append(('SAME AS FUZZY (no effect)', entry))
        st[0] += 1
        keep.append(entry)
    for module, (n, _) in sorted(stats.items()):
        print(f"  {module}: {n} override entries")
    for kind, entry in problems:
        print(f"  {kind}: {entry.msgctxt} {entry.msgid!r}")
    fatal = [e for k, e in problems if k in {'MISSING', 'AMBIGUOUS'}]
    if fatal and args.prune_override:
        for entry in fatal:
            override.remove(entry)
        override.save(str(path))
        print(f"  pruned {len(fatal)} entries from {path}")
        return 0
    return 1 if problems else 0


def main():
    args = parse_args()
    if args.check_override:
        return check_override(args)
    return update(args)


if __name__ == '__main__':
    sys.exit(main())
