#!/usr/bin/env python3
"""Regenerate a module's translation file from its current strings.

    .venv/bin/python setup/dev/update_po.py [--module MODULE] [--lang ru]
    .venv/bin/python setup/dev/update_po.py --check-override

What it does, the way a Tryton developer does it by hand (about a minute):

1. creates a throw-away SQLite database in a temporary folder and activates
   the module (and its dependencies) with ``trytond-admin``;
2. runs the wizards "Set Translations" (report and view strings), "Clean
   Translations" and "Update Translations" (creates the rows of LANG for every
   source string), each in its own transaction like the client does, and
   exports the module's template with ``ir.translation.translation_export``:
   what the "Export Translations" wizard writes and what Tryton's own
   ``locale/*.po`` are; the export is checked against the module's source
   strings (the ``en`` rows);
3. merges the translations of the current ``<module>/locale/<lang>.po`` (or
   ``--merge-from``): same context and source -> kept as is; same context but
   a changed source (a reworded field label, help or message) -> kept and
   flagged ``fuzzy`` with the old source as ``#|`` (Tryton ignores fuzzy rows:
   review, then remove the flag); entries that no longer exist are dropped
   and listed;
4. writes the file sorted by (msgctxt, msgid) like Tryton, prints the counts
   and lists what is untranslated, fuzzy, or loses a ``%(name)s`` placeholder.

``--check`` writes nothing and exits with 1 when the file would change, or
anything is untranslated, fuzzy or has wrong placeholders.

``--check-override`` (no database) validates
``<module>/locale/override/<lang>.po`` against the installed modules'
``locale/<lang>.po`` and prints the coverage reached per core module: see
``check_override``.  ``--prune-override`` removes the entries that would make
loading the module fail.
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
    parser.add_argument('--merge-from', type=Path,
        help="take existing translations from this file "
        "(default: the file written)")
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
        if (not k.startswith('TRYTOND_') or k == 'TRYTOND_TZ')
        and k not in {'DB_NAME'}}
    env['TRYTOND_DATABASE__URI'] = 'sqlite://'
    env['TRYTOND_DATABASE__PATH'] = str(tmp)
    env['TRYTOND_DATABASE__LANGUAGE'] = 'en'
    return env


def trytond_admin():
    script = Path(sys.executable).parent / 'trytond-admin'
    if script.exists():
        return [sys.executable, str(script)]
    return [sys.executable, '-c', 'from trytond.cli.admin import main; main()']


def check_registered(module):
    "trytond finds modules by the entry points of group trytond.modules"
    from importlib.metadata import entry_points

    import trytond
    names = {ep.name for ep in entry_points(group='trytond.modules')}
    core = Path(trytond.__file__).parent / 'modules' / module
    if module not in names and not core.is_dir() and module not in {
            'ir', 'res'}:
        sys.exit(f"module {module!r} is not registered for trytond: add "
            f'{module} = "{module}" to '
            '[project.entry-points."trytond.modules"] in pyproject.toml '
            "and reinstall (pip install -e .)")


def activate(tmp, module, verbose):
    check_registered(module)
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
    from trytond import config
    from trytond.pool import Pool
    from trytond.transaction import Transaction

    # The environment was set before trytond.config was imported
    assert config.get('database', 'path') == str(tmp), "wrong trytond config"

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
    # before any import of trytond: its config reads the environment once
    env = clean_environment(tmp)
    os.environ.clear()
    os.environ.update(env)
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
    old = load_po(args.merge_from or po_path)
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


def _usable(entry):
    return bool(entry.msgstr or entry.msgstr_plural.get(0)) \
        and 'fuzzy' not in entry.flags


def check_override(args):
    """Validate the override file against the installed modules' po files.

    Two kinds of entries are valid in ``locale/override/<lang>.po``:

    - ``type:name:module.fs_id`` (``module.`` for rows without an fs_id):
      replaces the row of that other module; the row must exist in that
      module's ``locale/<lang>.po`` (for report, view, wizard_button and
      selection rows with the same msgid), and the text must differ from
      the core one (an equal text leaves a *fuzzy* core row fuzzy);
    - ``type:name:`` without a module (field, help, selection, view, model
      name...): an extra row of this module, used where the core row is
      fuzzy with the right text (Tryton ignores fuzzy rows).
    """
    import polib
    directory = module_directory(args.module)
    path = directory / 'locale' / 'override' / f'{args.lang}.po'
    if not path.exists():
        print(f"{path}: no override file")
        return 0
    override = polib.pofile(str(path), wrapwidth=78)
    targets = {}

    def load(module):
        if module not in targets:
            targets[module] = {}
            try:
                po = installed_po(module, args.lang)
            except SystemExit:
                po = None
            if po and po.exists():
                for e in polib.pofile(str(po)):
                    targets[module].setdefault(
                        (e.msgctxt, e.msgid, e.msgid_plural or ''), e)
        return targets[module]

    entries = [e for e in override if not e.obsolete]
    modules = sorted({e.msgctxt.split(':')[2].split('.')[0]
            for e in entries if '.' in e.msgctxt.split(':')[2]})
    for module in modules:
        load(module)
    problems, stats, replaced = [], {}, {}
    for entry in entries:
        ttype, name, res_id = entry.msgctxt.split(':')
        plural = entry.msgid_plural or ''
        if '.' in res_id:
            module, fs_id = res_id.split('.')
            ctxt = f'{ttype}:{name}:{fs_id}'
            index = load(module)
            target = index.get((ctxt, entry.msgid, plural))
            if target is None and ttype not in {
                    'report', 'view', 'wizard_button', 'selection'}:
                same = [e for k, e in index.items() if k[0] == ctxt]
                if len(same) == 1:
                    target, = same
                    problems.append(('SOURCE CHANGED', entry))
            if target is None:
                problems.append(('MISSING (breaks loading)', entry))
                continue
            if (entry.msgstr == target.msgstr
                    and entry.msgstr_plural == target.msgstr_plural):
                problems.append(('NO EFFECT (same text)' if _usable(target)
                        else 'NO EFFECT (same text as fuzzy core row: '
                        'use an own row)', entry))
            stats.setdefault(module, [0, 0])[0] += 1
            replaced.setdefault(module, set()).add(
                (ctxt, entry.msgid, plural))
        else:
            found = [(m, index[(entry.msgctxt, entry.msgid, plural)])
                for m, index in targets.items()
                if (entry.msgctxt, entry.msgid, plural) in index]
            if not found:
                problems.append(('OWN ROW FOR NO CORE STRING', entry))
                continue
            for module, target in found:
                if _usable(target) and target.msgstr != entry.msgstr:
                    problems.append(('OWN ROW COMPETES WITH A CORE TEXT '
                            '(use module.-override)', entry))
                stats.setdefault(module, [0, 0])[1] += 1
                replaced.setdefault(module, set()).add(
                    (entry.msgctxt, entry.msgid, plural))
    print(f"{path}:")
    for module in sorted(stats):
        index = targets[module]
        usable = sum(1 for e in index.values() if _usable(e))
        after = sum(1 for k, e in index.items()
            if _usable(e) or k in replaced.get(module, ()))
        n, own = stats[module]
        print(f"  {module:10s} {n:4d} overrides, {own:3d} own rows; "
            f"usable {usable}/{len(index)} -> {after}/{len(index)} "
            f"({100 * after / max(len(index), 1):.0f} %)")
        for key, e in sorted(index.items()):
            if not (_usable(e) or key in replaced.get(module, ())):
                if args.verbose:
                    print(f"    untranslated: {key[0]} {key[1]!r}")
    for kind, entry in problems:
        print(f"  {kind}: {entry.msgctxt} {entry.msgid!r}")
    fatal = [e for k, e in problems if k.startswith('MISSING')]
    if fatal and args.prune_override:
        for entry in fatal:
            override.remove(entry)
        override.sort(key=lambda e: (e.msgctxt or '', e.msgid))
        path.write_text(str(override) + '\n', encoding='utf-8')
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
