/* This file is part of the school e-journal.  The COPYRIGHT file at the top
   level of this repository contains the full copyright notices and license
   terms.

   The teacher's class journal grid.  Every read and write goes through the
   database's JSON-RPC endpoint with the web client's own session cookie, so
   the server's record rules and checks decide everything; a refusal is
   shown at its cell with the server's message. */
(function() {
    'use strict';

    const DB = document.body.dataset.database;
    const ATTENDANCE = {absent: 'н', ill: 'б', excused: 'уп', late: 'оп'};
    const ATTENDANCE_CODES = {'н': 'absent', 'б': 'ill', 'уп': 'excused',
        'оп': 'late'};
    const MARK_LABELS = {pass: 'зач', fail: 'нз', na: 'н/а'};
    const FIVE_KEYS = {'1': '1', '2': '2', '3': '3', '4': '4', '5': '5'};
    const PASS_KEYS = {'з': 'pass', '+': 'pass', 'н': 'fail', '-': 'fail'};
    // The Russian letters of the keys (ЙЦУКЕН) typed in the Latin layout:
    // «н» is «н» whatever the keyboard's layout
    const RUSSIAN_KEYS = {
        KeyQ: 'й', KeyW: 'ц', KeyE: 'у', KeyR: 'к', KeyT: 'е', KeyY: 'н',
        KeyU: 'г', KeyI: 'ш', KeyO: 'щ', KeyP: 'з', BracketLeft: 'х',
        BracketRight: 'ъ', KeyA: 'ф', KeyS: 'ы', KeyD: 'в', KeyF: 'а',
        KeyG: 'п', KeyH: 'р', KeyJ: 'о', KeyK: 'л', KeyL: 'д',
        Semicolon: 'ж', Quote: 'э', KeyZ: 'я', KeyX: 'ч', KeyC: 'с',
        KeyV: 'м', KeyB: 'и', KeyN: 'т', KeyM: 'ь', Comma: 'б',
        Period: 'ю',
    };
    const MARK_VALUES = {
        five: [['5', '5'], ['4', '4'], ['3', '3'], ['2', '2'], ['1', '1']],
        pass_fail: [['pass', 'зачёт'], ['fail', 'незачёт']],
    };

    let context = {};
    let rpcId = 0;
    let data = null;
    let columns = [];     // [{lesson, kind: 'a'|'m', task}]
    let cells = [];       // [row][col] -> td
    let cursor = {row: 0, col: 0};
    let typed = '';
    const state = {};     // cell key -> {state, value, message}
    const pending = {};   // lesson id -> Map(cell key -> change)
    const inflight = {};  // lesson id -> true while saving
    let dialogLesson = null;
    let correction = null;

    const $ = (id) => document.getElementById(id);
    const status = (text) => { $('status').textContent = text; };

    async function rpc(method, params, extra) {
        const body = {
            id: ++rpcId,
            method: method,
            params: [...params, Object.assign({}, context, extra || {})],
        };
        let response;
        try {
            response = await fetch('/' + DB + '/rpc/', {
                method: 'POST',
                credentials: 'same-origin',
                headers: {'Content-Type': 'application/json'},
                body: JSON.stringify(body),
            });
        } catch (e) {
            throw {kind: 'network',
                message: 'Нет связи с сервером: ничего не сохранено.'};
        }
        if (response.status === 401 || response.status === 403) {
            throw {kind: 'auth', message: 'Сеанс электронного журнала ' +
                'закончился: войдите снова и откройте журнал класса.'};
        }
        if (!response.ok) {
            throw {kind: 'http', message: 'Сервер ответил ошибкой ' +
                response.status + ': ничего не сохранено.'};
        }
        const answer = await response.json();
        if (answer.error) {
            throw errorOf(answer.error);
        }
        // The grid's own calls answer their data as one JSON text
        if (method.startsWith('model.school.lesson.grid_')) {
            return JSON.parse(answer.result);
        }
        return answer.result;
    }

    function errorOf(error) {
        const type = error[0];
        const args = error[1];
        if (type === 'ConcurrencyException') {
            return {kind: type, message: 'Урок изменён в другом окне или ' +
                'другим учителем: ничего не сохранено. Обновите журнал.'};
        }
        let message = Array.isArray(args) ? args[0] : String(args);
        if (Array.isArray(args) && args[1]) {
            message += ' ' + args[1];
        }
        return {kind: type, message: message};
    }

    function formatDate(iso) {
        const [, month, day] = iso.split('-');
        return day + '.' + month;
    }

    function formatNumber(value) {
        return value === null || value === undefined ?
            '' : value.toFixed(2).replace('.', ',');
    }

    function key(column, student) {
        return column.lesson.id + ':' + (column.kind === 'a' ? 'a' :
            't' + column.task.id) + ':' + student.id;
    }

    function savedValue(column, student) {
        if (column.kind === 'a') {
            return (data.attendance[column.lesson.id] || {})[student.id] ||
                '';
        }
        const mark = (data.marks[column.task.id] || {})[student.id];
        return mark ? mark[1] : '';
    }

    function label(column, value) {
        if (!value) {
            return '';
        }
        return column.kind === 'a' ? ATTENDANCE[value] || value :
            MARK_LABELS[value] || value;
    }

    // Loading

    async function start() {
        try {
            context = await rpc('model.res.user.get_preferences', [true]);
        } catch (e) {
            status(e.message);
            return;
        }
        const params = new URLSearchParams(location.search);
        await chooser(params.get('teaching'));
        if (params.get('teaching')) {
            await load(params.get('teaching'), params.get('period'));
        } else {
            status('Выберите предмет и класс.');
        }
    }

    async function chooser(current) {
        let teachings = await rpc('model.school.teaching.search_read',
            [[['mine', '=', true]], 0, null, null, ['rec_name']]);
        if (!teachings.length) {
            teachings = await rpc('model.school.teaching.search_read',
                [[], 0, 500, null, ['rec_name']]);
        }
        const select = $('teaching');
        select.textContent = '';
        if (!current) {
            select.append(new Option('—', ''));
        }
        for (const teaching of teachings) {
            select.append(new Option(teaching.rec_name, teaching.id, false,
                String(teaching.id) === String(current)));
        }
        $('choose').hidden = false;
        select.addEventListener('change', () => navigate(select.value));
        $('period').addEventListener('change',
            () => navigate(select.value, $('period').value));
    }

    function navigate(teaching, period) {
        const params = new URLSearchParams();
        if (teaching) {
            params.set('teaching', teaching);
        }
        if (period) {
            params.set('period', period);
        }
        history.replaceState(null, '', '?' + params.toString());
        if (teaching) {
            load(teaching, period);
        }
    }

    async function load(teaching, period) {
        status('Загрузка…');
        try {
            data = await rpc('model.school.lesson.grid_data',
                [Number(teaching), period ? Number(period) : null]);
        } catch (e) {
            status(e.message);
            $('grid').textContent = '';
            return;
        }
        for (const name of Object.keys(state)) {
            delete state[name];
        }
        const select = $('period');
        select.textContent = '';
        for (const p of data.periods) {
            select.append(new Option(p.name, p.id, false,
                p.id === data.period.id));
        }
        const types = $('lesson-type');
        types.length = 1;
        for (const t of data.types) {
            types.append(new Option(t.code + ' — ' + t.name + ' (вес ' +
                String(t.weight).replace('.', ',') + ')', t.id));
        }
        $('title').textContent = 'Журнал: ' + data.teaching.name + ', ' +
            data.period.name;
        document.title = data.teaching.name + ' — журнал класса';
        render();
        const today = data.lessons.findIndex((l) => l.date >= data.today);
        let col = columns.findIndex(
            (c) => today >= 0 && c.lesson === data.lessons[today]);
        if (col < 0) {
            col = Math.max(columns.length - 1, 0);
        }
        move(0, col);
        status(data.lessons.length + ' уроков, ' + data.students.length +
            ' учащихся' + (data.period.state === 'closed' ?
                '; период закрыт' : '') + '.');
    }

    // Rendering

    function render() {
        const table = $('grid');
        table.textContent = '';
        columns = [];
        for (const lesson of data.lessons) {
            columns.push({lesson: lesson, kind: 'a'});
            for (const task of lesson.tasks) {
                columns.push({lesson: lesson, kind: 'm', task: task});
            }
        }
        const head = table.createTHead();
        const top = head.insertRow();
        const sub = head.insertRow();
        th(top, '№', 'number', 2);
        th(top, 'Учащийся', 'name', 2);
        for (const lesson of data.lessons) {
            const cell = th(top, '', 'lesson ' + lesson.state);
            cell.colSpan = lesson.tasks.length + 1;
            cell.dataset.lesson = lesson.id;
            paintHead(cell, lesson);
            cell.addEventListener('click', () => {
                const col = columns.findIndex((c) => c.lesson === lesson);
                move(-1, col);
                openLesson(lesson);
            });
            const attendance = th(sub, 'П', 'kind');
            attendance.title = 'Посещаемость: н, б, уп, оп';
            for (const task of lesson.tasks) {
                const cellTask = th(sub, task.code + (task.weight !== 1 ?
                    '×' + String(task.weight).replace('.', ',') : ''),
                    'kind task');
                cellTask.title = task.name + (task.description ?
                    ': ' + task.description : '') + ', вес ' +
                    String(task.weight).replace('.', ',');
            }
        }
        th(top, 'Ср. балл', 'stat', 2).title = 'Средний взвешенный балл';
        th(top, 'Оценок', 'stat', 2);
        th(top, 'Предв.', 'stat', 2).title = 'Предварительная оценка';
        th(top, 'Итог', 'stat', 2).title = 'Оценка за период';
        const body = table.createTBody();
        cells = [];
        data.students.forEach((student, row) => {
            const tr = body.insertRow();
            tr.dataset.student = student.id;
            const number = tr.insertCell();
            number.className = 'number';
            number.textContent = row + 1;
            const name = document.createElement('th');
            name.scope = 'row';
            name.className = 'name';
            name.textContent = student.name;
            tr.append(name);
            const rowCells = [];
            cells.push(rowCells);
            columns.forEach((column, col) => {
                const td = tr.insertCell();
                td.dataset.row = row;
                td.dataset.col = col;
                td.dataset.lesson = column.lesson.id;
                td.dataset.kind = column.kind === 'a' ? 'attendance' :
                    'mark';
                td.addEventListener('click', () => move(row, col));
                rowCells.push(td);
                paint(row, col);
            });
            for (const stat of ['average', 'count', 'proposed', 'grade']) {
                const td = tr.insertCell();
                td.className = 'stat ' + stat;
            }
            paintStats(row);
        });
    }

    function th(row, text, className, rowSpan) {
        const cell = document.createElement('th');
        cell.textContent = text;
        cell.className = className;
        if (rowSpan) {
            cell.rowSpan = rowSpan;
        }
        row.append(cell);
        return cell;
    }

    function paintHead(cell, lesson) {
        cell.textContent = '';
        const date = document.createElement('span');
        date.className = 'date';
        date.textContent = formatDate(lesson.date) + ' ·' + lesson.number;
        const topic = document.createElement('span');
        topic.className = 'topic';
        topic.textContent = lesson.state === 'planned' ?
            (lesson.topic || 'не проведён') : (lesson.topic || '—');
        cell.append(date, topic);
        cell.title = [
            formatDate(lesson.date) + ', урок ' + lesson.number +
                (lesson.state === 'planned' ? ' (не проведён)' : ''),
            lesson.topic ? 'Тема: ' + lesson.topic : '',
            lesson.homework ? 'Д/з: ' + lesson.homework : '',
        ].filter(Boolean).join('\n');
    }

    function paint(row, col) {
        const td = cells[row][col];
        const column = columns[col];
        const student = data.students[row];
        const cellState = state[key(column, student)];
        const members = data.members[column.lesson.id] || [];
        let value = savedValue(column, student);
        const classes = [column.kind === 'a' ? 'attendance' : 'mark'];
        if (members.indexOf(student.id) < 0) {
            classes.push('out');
        }
        if (column.lesson.state === 'planned') {
            classes.push('planned');
        }
        if (cellState) {
            classes.push(cellState.state);
            if (cellState.state !== 'saved' &&
                    cellState.state !== 'requested') {
                value = cellState.value;
            }
        }
        if (row === cursor.row && col === cursor.col) {
            classes.push('cursor');
        }
        td.className = classes.join(' ');
        td.textContent = label(column, value);
        if (row === cursor.row && col === cursor.col && typed) {
            td.textContent = typed;
        }
        if (cellState && cellState.message) {
            td.dataset.message = cellState.message;
            td.title = cellState.message;
        } else {
            delete td.dataset.message;
            td.title = '';
        }
        td.setAttribute('aria-selected',
            row === cursor.row && col === cursor.col ? 'true' : 'false');
    }

    function paintStats(row) {
        const student = data.students[row];
        const stats = data.stats[student.id] || {};
        const tr = cells[row].length ? cells[row][0].parentNode :
            $('grid').tBodies[0].rows[row];
        const tds = tr.querySelectorAll('td.stat');
        tds[0].textContent = formatNumber(stats.average);
        tds[1].textContent = stats.count || '';
        tds[2].textContent = MARK_LABELS[stats.proposed] ||
            stats.proposed || '';
        tds[3].textContent = MARK_LABELS[stats.grade] || stats.grade || '';
    }

    function bubble(td, message) {
        const box = $('bubble') || document.createElement('div');
        box.id = 'bubble';
        box.setAttribute('role', 'alert');
        if (!box.parentNode) {
            document.body.append(box);
        }
        if (!td || !message) {
            box.hidden = true;
            return;
        }
        box.textContent = message;
        box.hidden = false;
        const rect = td.getBoundingClientRect();
        box.style.left = Math.max(4, Math.min(rect.left + window.scrollX,
            window.innerWidth - 330)) + 'px';
        box.style.top = (rect.bottom + window.scrollY + 2) + 'px';
    }

    // Moving

    function headCell(col) {
        const column = columns[col];
        return column ? $('grid').tHead.querySelector(
            'th.lesson[data-lesson="' + column.lesson.id + '"]') : null;
    }

    function move(row, col) {
        if (!columns.length) {
            return;
        }
        const old = cursor;
        row = Math.max(-1, Math.min(row, data.students.length - 1));
        col = Math.max(0, Math.min(col, columns.length - 1));
        typed = '';
        cursor = {row: row, col: col};
        if (old.row >= 0 && cells[old.row] && cells[old.row][old.col]) {
            paint(old.row, old.col);
        }
        const oldHead = $('grid').tHead.querySelector('th.cursor');
        if (oldHead) {
            oldHead.classList.remove('cursor');
        }
        let target;
        if (row < 0) {
            target = headCell(col);
            target.classList.add('cursor');
        } else {
            paint(row, col);
            target = cells[row][col];
        }
        target.scrollIntoView({block: 'nearest', inline: 'nearest'});
        const message = row >= 0 && target.dataset.message;
        bubble(target, message);
    }

    function onKey(event) {
        if (!data || document.querySelector('dialog[open]') ||
                event.target.closest('select, input, textarea')) {
            return;
        }
        const {row, col} = cursor;
        const keyName = event.key;
        let handled = true;
        if (keyName === 'ArrowUp') {
            move(row - 1, col);
        } else if (keyName === 'ArrowDown') {
            move(row + 1, col);
        } else if (keyName === 'ArrowLeft') {
            move(row, col - 1);
        } else if (keyName === 'ArrowRight') {
            move(row, col + 1);
        } else if (keyName === 'Tab') {
            if (typed) {
                commitTyped();
            }
            move(row, col + (event.shiftKey ? -1 : 1));
        } else if (keyName === 'Enter') {
            if (row < 0) {
                openLesson(columns[col].lesson);
            } else if (typed) {
                commitTyped();
                move(row + 1, col);
            } else {
                move(row + 1, col);
            }
        } else if (keyName === 'Escape') {
            typed = '';
            if (row >= 0) {
                paint(row, col);
            }
            bubble(null);
        } else if (keyName === 'Delete' || keyName === 'Backspace') {
            if (row >= 0) {
                erase(row, col);
            }
        } else if (keyName.length === 1 && !event.ctrlKey &&
                !event.metaKey && !event.altKey && row >= 0) {
            let char = keyName.toLowerCase();
            if (/^[a-z,.;'[\]]$/.test(char) && RUSSIAN_KEYS[event.code]) {
                char = RUSSIAN_KEYS[event.code];
            }
            type(row, col, char);
        } else {
            handled = false;
        }
        if (handled) {
            event.preventDefault();
        }
    }

    function type(row, col, char) {
        const column = columns[col];
        const student = data.students[row];
        if (column.kind === 'm') {
            const keys = data.teaching.scale === 'pass_fail' ?
                PASS_KEYS : FIVE_KEYS;
            const value = keys[char];
            if (!value) {
                bubble(cells[row][col], data.teaching.scale === 'pass_fail' ?
                    'Зачёт — з, незачёт — н.' : 'Оценка — цифра от 2 до 5.');
                return;
            }
            const saved = (data.marks[column.task.id] || {})[student.id];
            if (saved) {
                openCorrection(row, col, saved, value);
                return;
            }
            put(row, col, value);
            move(row + 1, col);
            return;
        }
        const buffer = typed + char;
        if (ATTENDANCE_CODES[buffer]) {
            typed = '';
            put(row, col, ATTENDANCE_CODES[buffer]);
            move(row + 1, col);
        } else if (Object.keys(ATTENDANCE_CODES).some(
                (code) => code.startsWith(buffer))) {
            typed = buffer;
            paint(row, col);
        } else {
            typed = '';
            paint(row, col);
            bubble(cells[row][col], 'Посещаемость: н, б, уп, оп.');
        }
    }

    function commitTyped() {
        typed = '';
        paint(cursor.row, cursor.col);
    }

    function erase(row, col) {
        const column = columns[col];
        const student = data.students[row];
        const name = key(column, student);
        if (column.kind === 'm') {
            const saved = (data.marks[column.task.id] || {})[student.id];
            if (saved) {
                openCorrection(row, col, saved, '');
                return;
            }
            // A typed mark not saved (refused) is cleared
            delete state[name];
            const queue = pending[column.lesson.id];
            if (queue) {
                queue.delete(name);
            }
            paint(row, col);
            bubble(null);
            return;
        }
        if (savedValue(column, student) ||
                (state[name] && state[name].value)) {
            put(row, col, '');
        } else {
            delete state[name];
            paint(row, col);
            bubble(null);
        }
    }

    // Saving: a batch per lesson, one request at a time per lesson

    function put(row, col, value) {
        const column = columns[col];
        const student = data.students[row];
        const name = key(column, student);
        state[name] = {state: 'pending', value: value};
        paint(row, col);
        const lessonId = column.lesson.id;
        if (!pending[lessonId]) {
            pending[lessonId] = new Map();
        }
        pending[lessonId].set(name, {
            key: name, kind: column.kind, student: student.id,
            task: column.task ? column.task.id : null, value: value,
        });
        flush(lessonId);
    }

    async function flush(lessonId) {
        if (inflight[lessonId] || !pending[lessonId] ||
                !pending[lessonId].size) {
            return;
        }
        const changes = [...pending[lessonId].values()];
        pending[lessonId] = new Map();
        inflight[lessonId] = true;
        try {
            await send(lessonId, changes);
        } catch (e) {
            if (changes.length > 1 && e.kind !== 'auth' &&
                    e.kind !== 'network') {
                // Nothing of the batch was saved: each cell alone tells
                // which are refused and why
                for (const change of changes) {
                    try {
                        await send(lessonId, [change]);
                    } catch (e2) {
                        failed([change], e2.message);
                    }
                }
            } else {
                failed(changes, e.message);
            }
        } finally {
            inflight[lessonId] = false;
            if (pending[lessonId] && pending[lessonId].size) {
                flush(lessonId);
            } else {
                summary();
            }
        }
    }

    function batchOf(lesson, changes) {
        const batch = {attendance: [], marks: []};
        for (const change of changes) {
            if (change.kind === 'a') {
                batch.attendance.push([change.student, change.value || null]);
            } else {
                batch.marks.push([change.task, change.student, change.value]);
            }
        }
        if (lesson.state === 'planned') {
            batch.hold = true;
        }
        return batch;
    }

    function lessonOf(lessonId) {
        return data.lessons.find((l) => l.id === lessonId);
    }

    async function send(lessonId, changes, batch) {
        const lesson = lessonOf(lessonId);
        for (const change of changes) {
            if (state[change.key]) {
                state[change.key].state = 'saving';
            }
            repaintKey(change.key);
        }
        const timestamp = {};
        timestamp['school.lesson,' + lessonId] = lesson.timestamp;
        const result = await rpc('model.school.lesson.grid_save',
            [lessonId, batch || batchOf(lesson, changes)],
            {_timestamp: timestamp});
        apply(result);
        for (const change of changes) {
            // A cell typed again meanwhile waits for its own save
            if (!state[change.key] || state[change.key].state === 'saving') {
                state[change.key] = {state: 'saved', value: change.value};
            }
            repaintKey(change.key);
        }
        status('Сохранено: ' + formatDate(lesson.date) + ', урок ' +
            lesson.number + '.');
        return result;
    }

    function failed(changes, message) {
        for (const change of changes) {
            if (state[change.key] && state[change.key].state === 'pending') {
                continue;
            }
            state[change.key] = {state: 'failed', value: change.value,
                message: message};
            const td = repaintKey(change.key);
            if (td) {
                bubble(td, message);
            }
        }
        status('Не сохранено: ' + message);
    }

    function summary() {
        const refused = Object.values(state).filter(
            (s) => s.state === 'failed').length;
        if (refused) {
            status('Не сохранено ячеек: ' + refused +
                ' (сообщение — в ячейке).');
        }
    }

    function repaintKey(name) {
        const [lessonId, kind, studentId] = name.split(':');
        const row = data.students.findIndex(
            (s) => String(s.id) === studentId);
        const col = columns.findIndex((c) =>
            String(c.lesson.id) === lessonId &&
            (c.kind === 'a' ? 'a' : 't' + c.task.id) === kind);
        if (row < 0 || col < 0) {
            return null;
        }
        paint(row, col);
        return cells[row][col];
    }

    function repaintLesson(lesson, stats) {
        // The lesson's cells, and the averages and grades of the students
        // whose figures the answer brought
        columns.forEach((column, col) => {
            if (column.lesson.id === lesson.id) {
                data.students.forEach((student, row) => paint(row, col));
            }
        });
        if (stats) {
            data.students.forEach((student, row) => {
                if (stats[student.id]) {
                    paintStats(row);
                }
            });
        }
    }

    function applyCells(result) {
        // A batch of cells only: the lesson's new timestamp and what the
        // saved cells hold now, merged into the column
        const lesson = lessonOf(result.lesson.id);
        lesson.timestamp = result.lesson.timestamp;
        for (const [lessonId, values] of Object.entries(result.attendance)) {
            data.attendance[lessonId] = Object.assign(
                data.attendance[lessonId] || {}, values);
        }
        for (const [taskId, values] of Object.entries(result.marks)) {
            data.marks[taskId] = Object.assign(
                data.marks[taskId] || {}, values);
        }
        if (result.stats) {
            Object.assign(data.stats, result.stats);
        }
        repaintLesson(lesson, result.stats);
    }

    function apply(result) {
        if (result.partial) {
            applyCells(result);
            return;
        }
        const lesson = result.lesson;
        const index = data.lessons.findIndex((l) => l.id === lesson.id);
        const old = data.lessons[index];
        const restructure = old.tasks.length !== lesson.tasks.length ||
            old.state !== lesson.state;
        data.lessons[index] = lesson;
        Object.assign(data.members, result.members);
        Object.assign(data.attendance, result.attendance);
        Object.assign(data.marks, result.marks);
        if (result.stats) {
            Object.assign(data.stats, result.stats);
        }
        if (restructure) {
            const at = cursor;
            render();
            cursor = {row: -2, col: 0};
            move(at.row, at.col);
            return;
        }
        for (const column of columns) {
            if (column.lesson.id === lesson.id) {
                column.lesson = lesson;
                if (column.task) {
                    column.task = lesson.tasks.find(
                        (t) => t.id === column.task.id);
                }
            }
        }
        const headCellOf = $('grid').tHead.querySelector(
            'th.lesson[data-lesson="' + lesson.id + '"]');
        paintHead(headCellOf, lesson);
        repaintLesson(lesson, result.stats);
    }

    // The lesson's head: topic, homework, a new task, holding

    function openLesson(lesson) {
        dialogLesson = lesson;
        $('lesson-title').textContent = formatDate(lesson.date) +
            ', урок ' + lesson.number + (lesson.state === 'planned' ?
                ' (не проведён)' : '');
        $('lesson-error').textContent = '';
        $('lesson-topic').value = lesson.topic;
        $('lesson-homework').value = lesson.homework;
        $('lesson-type').value = '';
        $('lesson-description').value = '';
        $('lesson-hold').hidden = lesson.state !== 'planned';
        $('lesson-dialog').showModal();
        $('lesson-topic').focus();
    }

    async function saveLesson(hold) {
        const lesson = dialogLesson;
        const batch = {};
        if ($('lesson-topic').value !== lesson.topic) {
            batch.topic = $('lesson-topic').value;
        }
        if ($('lesson-homework').value !== lesson.homework) {
            batch.homework = $('lesson-homework').value;
        }
        if ($('lesson-type').value) {
            batch.tasks = [{type: Number($('lesson-type').value),
                description: $('lesson-description').value}];
        }
        if (hold || (batch.tasks && lesson.state === 'planned')) {
            batch.hold = true;
        }
        if (!Object.keys(batch).length) {
            $('lesson-dialog').close();
            return;
        }
        const timestamp = {};
        timestamp['school.lesson,' + lesson.id] = lesson.timestamp;
        $('lesson-save').disabled = true;
        try {
            const result = await rpc('model.school.lesson.grid_save',
                [lesson.id, batch], {_timestamp: timestamp});
            $('lesson-dialog').close();
            apply(result);
            status('Сохранено: ' + formatDate(lesson.date) + ', урок ' +
                lesson.number + '.');
        } catch (e) {
            $('lesson-error').textContent = e.message;
        } finally {
            $('lesson-save').disabled = false;
        }
    }

    // A saved mark is changed only through a reasoned correction request

    function openCorrection(row, col, saved, value) {
        const column = columns[col];
        const student = data.students[row];
        correction = {row: row, col: col, mark: saved[0],
            key: key(column, student)};
        $('correction-what').textContent = student.name + ', ' +
            formatDate(column.lesson.date) + ', ' + column.task.code +
            ': ' + label(column, saved[1]);
        $('correction-error').textContent = '';
        const select = $('correction-value');
        select.textContent = '';
        select.append(new Option('отменить оценку', ''));
        for (const [v, text] of MARK_VALUES[data.teaching.scale] ||
                MARK_VALUES.five) {
            if (v !== saved[1]) {
                select.append(new Option(text, v));
            }
        }
        select.value = value;
        $('correction-reason').value = '';
        $('correction-dialog').showModal();
        $('correction-reason').focus();
    }

    async function sendCorrection() {
        const reason = $('correction-reason').value.trim();
        if (!reason) {
            $('correction-error').textContent = 'Укажите причину.';
            return;
        }
        try {
            await rpc('model.school.mark.correction.create', [[{
                mark: correction.mark,
                new_value: $('correction-value').value || null,
                reason: reason,
            }]]);
        } catch (e) {
            $('correction-error').textContent = e.message;
            return;
        }
        $('correction-dialog').close();
        state[correction.key] = {state: 'requested',
            message: 'Запрошено исправление: решит заместитель директора.'};
        paint(correction.row, correction.col);
        status('Запрос на исправление оценки отправлен.');
    }

    // Wiring

    document.addEventListener('keydown', onKey);
    $('lesson-form').addEventListener('submit', (event) => {
        event.preventDefault();
        saveLesson(false);
    });
    $('lesson-hold').addEventListener('click', () => saveLesson(true));
    $('lesson-cancel').addEventListener('click',
        () => $('lesson-dialog').close());
    $('correction-form').addEventListener('submit', (event) => {
        event.preventDefault();
        sendCorrection();
    });
    $('correction-cancel').addEventListener('click',
        () => $('correction-dialog').close());
    window.addEventListener('beforeunload', (event) => {
        const busy = Object.values(inflight).some(Boolean) ||
            Object.values(pending).some((p) => p.size);
        if (busy) {
            event.preventDefault();
        }
    });
    // For the tests and the curious: what is saved or refused
    window.schoolGrid = {
        state: state,
        loaded: () => Boolean(data),
        cursor: () => Object.assign({}, cursor),
        column: (lessonId) => columns.findIndex(
            (c) => c.lesson.id === lessonId && c.kind === 'a'),
        busy: () => Object.values(inflight).some(Boolean) ||
            Object.values(pending).some((p) => p.size),
    };
    start();
}());
