#!/usr/bin/env python3
# This file is part of the school e-journal.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license
# terms.
"""Fill a Tryton database with a realistic Russian general-education school.

    python setup/demo_school.py -c trytond.conf -d DB [--students 250]
        [--parallels N] [--seed 1] [--today YYYY-MM-DD] [--password demo-2026]

The database must exist with the module school_ejournal activated.  The
generator is deterministic (same seed, same --today: same school), creates
records in bulk (one create call per model), applies the enrolment orders
with the module's own workflow and commits once at the end.  It refuses
(exit code 2) when the school already exists in the database.

The journal: the bell schedule, the journal settings, one weekly timetable
(no clash of teacher, room, class or subgroup; no gaps) copied into every
study period, the lessons made from it by the module's
Timetable.generate_lessons,
approved thematic plans of the curriculum's hours for every teaching, and
the journal of the lessons before --today: held with the next topic of the
plan (as the «hold» button proposes it), homework, tasks, attendance and
marks entered on the lesson's day or, for written work, within its
checking norm.  That history is inserted with one SQL statement per batch
per class and period, with the stored fields the module computes (lesson,
date, type, late of marks; filled_at, filled_by of lessons; the lines'
history); the module's date rules are not called (its ir.date.today() knows
no context date), the data are made to satisfy them.  The lessons from
--today on stay planned and empty.  With school_ejournal_reports activated,
the internal-control schedule (ВШК): each class's first control work of
the year is scheduled and made administrative («КА»), except in about one
class in eight, where the work stays ordinary (a remark of the analysis).
"""
import argparse
import datetime as dt
import logging
import os
import random
import sys
import time
from collections import defaultdict
from decimal import Decimal

SCHOOL_NAME = 'МКОУ «СОШ с. Пролетарского»'
VILLAGE = 'с. Пролетарское'
LETTERS = 'АБВГДЕЖЗИКЛМН'

# --- Subjects: code, name, short name, specialty of the teacher -----------
SUBJECTS = [
    ('RUS', 'Русский язык', 'Рус. яз.', 'rus'),
    ('LITR', 'Литературное чтение', 'Лит. чтение', 'rus'),
    ('LIT', 'Литература', 'Литература', 'rus'),
    ('NATL', 'Родной язык (русский)', 'Родн. яз.', 'rus'),
    ('ENG', 'Иностранный язык (английский)', 'Англ. яз.', 'eng'),
    ('MATH', 'Математика', 'Матем.', 'math'),
    ('ALG', 'Алгебра', 'Алгебра', 'math'),
    ('GEOM', 'Геометрия', 'Геометрия', 'math'),
    ('PROB', 'Вероятность и статистика', 'Вер. и стат.', 'math'),
    ('INF', 'Информатика', 'Информатика', 'phys'),
    ('HIST', 'История', 'История', 'hist'),
    ('SOC', 'Обществознание', 'Общество', 'hist'),
    ('GEO', 'География', 'География', 'geo'),
    ('BIO', 'Биология', 'Биология', 'bio'),
    ('PHYS', 'Физика', 'Физика', 'phys'),
    ('CHEM', 'Химия', 'Химия', 'bio'),
    ('ENV', 'Окружающий мир', 'Окр. мир', 'primary'),
    ('ORKSE', 'Основы религиозных культур и светской этики', 'ОРКСЭ',
        'primary'),
    ('ODNKNR', 'Основы духовно-нравственной культуры народов России',
        'ОДНКНР', 'hist'),
    ('OBZR', 'ОБЗР (основы безопасности и защиты Родины)', 'ОБЗР', 'pe'),
    ('MUS', 'Музыка', 'Музыка', 'arts'),
    ('ART', 'Изобразительное искусство', 'ИЗО', 'arts'),
    ('TECH', 'Труд (технология)', 'Труд', 'tech'),
    ('PE', 'Физическая культура', 'Физкультура', 'pe'),
    ('PROJ', 'Индивидуальный проект', 'Инд. проект', 'rus'),
    ('FIN', 'Финансовая грамотность', 'Фин. грамотн.', 'hist'),
    ('RUSP', 'Практикум по русскому языку', 'Практ. рус.', 'rus'),
    ('MATHP', 'Решение задач повышенной сложности по математике',
        'Задачи матем.', 'math'),
    ]
# The codes the journal shows (the keys above name the subjects in this file)
RUSSIAN_CODES = {
    'RUS': 'РУС', 'LITR': 'ЛЧТ', 'LIT': 'ЛИТ', 'NATL': 'РОДЯ', 'ENG': 'АНГЛ',
    'MATH': 'МАТ', 'ALG': 'АЛГ', 'GEOM': 'ГЕОМ', 'PROB': 'ВИС', 'INF': 'ИНФ',
    'HIST': 'ИСТ', 'SOC': 'ОБЩ', 'GEO': 'ГЕОГ', 'BIO': 'БИО', 'PHYS': 'ФИЗ',
    'CHEM': 'ХИМ', 'ENV': 'ОКР', 'ORKSE': 'ОРКСЭ', 'ODNKNR': 'ОДНКНР',
    'OBZR': 'ОБЗР', 'MUS': 'МУЗ', 'ART': 'ИЗО', 'TECH': 'ТРУД', 'PE': 'ФК',
    'PROJ': 'ИП', 'FIN': 'ФГ', 'RUSP': 'ПРУС', 'MATHP': 'ЗМАТ',
    }
# Weekly hours by level 1..11: ФОП НОО / ООО / СОО, 5-day week (variant 1;
# СОО: universal profile).  Totals 21, 23, 23, 23, 27, 29, 30, 31, 32, 28, 27
# are within the legal maxima (21, 23, 29, 30, 32, 33, 33, 34).
CURRICULUM = {
    'RUS': [5, 5, 5, 5, 5, 6, 4, 3, 3, 2, 2],
    'LITR': [4, 4, 4, 3, 0, 0, 0, 0, 0, 0, 0],
    'NATL': [1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0],
    'LIT': [0, 0, 0, 0, 3, 3, 2, 2, 3, 3, 3],
    'ENG': [0, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3],
    'MATH': [4, 4, 4, 4, 5, 5, 0, 0, 0, 0, 0],
    'ALG': [0, 0, 0, 0, 0, 0, 3, 3, 3, 3, 3],
    'GEOM': [0, 0, 0, 0, 0, 0, 2, 2, 2, 2, 2],
    'PROB': [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1],
    'INF': [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1],
    'HIST': [0, 0, 0, 0, 2, 2, 2, 2, 2, 2, 2],
    'SOC': [0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2],
    'GEO': [0, 0, 0, 0, 1, 1, 2, 2, 2, 1, 1],
    'BIO': [0, 0, 0, 0, 1, 1, 1, 2, 2, 1, 1],
    'PHYS': [0, 0, 0, 0, 0, 0, 2, 2, 3, 2, 2],
    'CHEM': [0, 0, 0, 0, 0, 0, 0, 2, 2, 1, 1],
    'ENV': [2, 2, 2, 2, 0, 0, 0, 0, 0, 0, 0],
    'ORKSE': [0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0],
    'ODNKNR': [0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0],
    'OBZR': [0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1],
    'MUS': [1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0],
    'ART': [1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0],
    'TECH': [1, 1, 1, 1, 2, 2, 2, 1, 1, 0, 0],
    'PE': [2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2],
    'PROJ': [0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0],
    }
# Electives (факультативы), hours by level
ELECTIVES = {
    'FIN': {8: 1, 10: 1},
    'RUSP': {9: 1, 11: 1},
    'MATHP': {11: 1},
    }
# Subjects taught in two subgroups, from this level up
SPLIT_FROM = {'ENG': 2, 'TECH': 5}
# Subjects that the class teacher of a primary class (1-4) teaches
PRIMARY_SUBJECTS = {'RUS', 'LITR', 'NATL', 'MATH', 'ENV', 'ORKSE', 'ART',
    'TECH'}
SPECIALTY_MIN = {'eng': 2, 'tech': 2}
TEACHER_LOAD = 17   # hours a week aimed at when counting teachers
ZAVUCH_LOAD = 6

LEVEL_NAMES = {1: '1-е', 2: '2-е', 3: '3-и', 4: '4-е', 5: '5-е', 6: '6-е',
    7: '7-е', 8: '8-е', 9: '9-е', 10: '10-е', 11: '11-е'}
# Relative size of the levels in a rural school (fewer in 10-11)
LEVEL_WEIGHTS = [1.15, 1.1, 1.1, 1.05, 1.05, 1.0, 1.0, 1.0, 0.95, 0.6, 0.55]

# --- The journal -----------------------------------------------------------
LESSONS_START = dt.time(8, 30)
LESSON_MINUTES = 45
BREAKS = [10, 20, 20, 15, 10, 10]   # minutes after lessons 1 to 6
MOSCOW = dt.timedelta(hours=3)      # timestamps are stored in UTC
# At most so many lessons a day (СанПиН 1.2.3685-21, 5-day week)
DAY_MAX = {1: 5, 2: 5, 3: 5, 4: 5, 5: 6, 6: 6, 7: 7, 8: 7, 9: 7, 10: 7,
    11: 7}
# Sections of the thematic plans; a plan runs through them over the year
SECTIONS = {
    'RUS': ['Звуки и буквы', 'Слово и предложение', 'Состав слова',
        'Безударные гласные в корне', 'Парные согласные',
        'Имя существительное', 'Имя прилагательное', 'Местоимение',
        'Глагол', 'Текст. Развитие речи', 'Повторение изученного'],
    'RUS+': ['Повторение изученного', 'Синтаксис и пунктуация',
        'Фонетика и орфоэпия', 'Лексикология', 'Морфемика',
        'Имя существительное', 'Имя прилагательное', 'Глагол',
        'Причастие и деепричастие', 'Наречие', 'Служебные части речи',
        'Сложное предложение', 'Культура речи'],
    'LITR': ['Устное народное творчество', 'Сказки народов России',
        'Произведения А. С. Пушкина', 'Басни И. А. Крылова',
        'Стихи о природе', 'Рассказы о детях', 'Произведения Л. Н. Толстого',
        'Рассказы о животных', 'Зарубежная литература'],
    'LIT': ['Мифы и фольклор', 'Древнерусская литература', 'А. С. Пушкин',
        'М. Ю. Лермонтов', 'Н. В. Гоголь', 'И. С. Тургенев', 'Л. Н. Толстой',
        'А. П. Чехов', 'Поэзия XX века',
        'Проза о Великой Отечественной войне', 'Зарубежная литература'],
    'NATL': ['Русский язык: прошлое и настоящее', 'Язык в действии',
        'Секреты речи и текста', 'Пословицы и поговорки'],
    'ENG': ['Знакомство', 'Моя семья', 'Моя школа', 'Еда и напитки',
        'Мой дом', 'Животные', 'Времена года и погода', 'Свободное время',
        'Путешествия', 'Праздники и традиции', 'Страны изучаемого языка'],
    'MATH': ['Числа от 1 до 10', 'Числа от 1 до 20', 'Сложение и вычитание',
        'Умножение и деление', 'Величины', 'Геометрические фигуры',
        'Текстовые задачи', 'Числа больше 100', 'Письменные вычисления'],
    'MATH+': ['Натуральные числа и нуль', 'Действия с натуральными числами',
        'Наглядная геометрия', 'Обыкновенные дроби', 'Десятичные дроби',
        'Проценты', 'Отношения и пропорции',
        'Положительные и отрицательные числа', 'Буквенные выражения',
        'Координатная плоскость'],
    'ALG': ['Числа и вычисления', 'Алгебраические выражения',
        'Линейные уравнения', 'Многочлены',
        'Формулы сокращённого умножения', 'Функции и графики',
        'Системы уравнений', 'Квадратные корни', 'Квадратные уравнения',
        'Неравенства', 'Последовательности'],
    'GEOM': ['Начальные геометрические сведения', 'Треугольники',
        'Параллельные прямые', 'Четырёхугольники', 'Площадь',
        'Подобные треугольники', 'Окружность', 'Векторы', 'Многогранники'],
    'PROB': ['Представление данных', 'Описательная статистика',
        'Случайная изменчивость', 'Графы', 'Вероятность и частота',
        'Элементы комбинаторики'],
    'INF': ['Информация и информационные процессы',
        'Компьютер и программное обеспечение', 'Системы счисления',
        'Элементы алгебры логики', 'Алгоритмы и исполнители',
        'Программирование на Python', 'Электронные таблицы',
        'Компьютерные сети'],
    'HIST': ['Древний мир', 'Средние века', 'Русь в IX–XII веках',
        'Русские земли в XIII–XV веках', 'Россия в XVI веке',
        'Смутное время', 'Россия в XVII веке', 'Эпоха Петра I',
        'Россия в XVIII веке', 'Россия в XIX веке',
        'Великая Отечественная война'],
    'SOC': ['Человек и его социальное окружение', 'Общество и его развитие',
        'Экономика', 'Право', 'Политика', 'Духовная культура'],
    'GEO': ['Земля во Вселенной', 'План местности и карта', 'Литосфера',
        'Гидросфера', 'Атмосфера', 'Биосфера', 'Природа России',
        'Население России', 'Хозяйство России', 'Регионы России'],
    'BIO': ['Биология — наука о живой природе', 'Клетка',
        'Многообразие организмов', 'Растения', 'Животные',
        'Человек и его здоровье', 'Экосистемы'],
    'PHYS': ['Физика и методы познания', 'Строение вещества',
        'Механическое движение', 'Взаимодействие тел', 'Давление',
        'Работа и энергия', 'Тепловые явления', 'Электрические явления',
        'Электромагнитные явления', 'Световые явления'],
    'CHEM': ['Первоначальные химические понятия', 'Кислород. Водород',
        'Вода. Растворы', 'Основные классы неорганических соединений',
        'Периодический закон Д. И. Менделеева', 'Строение вещества',
        'Химические реакции', 'Металлы', 'Неметаллы'],
    'ENV': ['Мы и наш мир', 'Природа', 'Растения и животные',
        'Человек и общество', 'Наша Родина — Россия',
        'Правила безопасной жизни', 'Путешествие по городам и странам'],
    'ORKSE': ['Россия — наша Родина', 'Культура и мораль',
        'Этика и её значение', 'Семья и семейные ценности',
        'Долг, свобода, ответственность', 'Праздники народов России'],
    'ODNKNR': ['Культура как социальность',
        'Семья и духовно-нравственные ценности',
        'Духовное наследие народов России', 'Культурное единство России'],
    'OBZR': ['Безопасное и устойчивое развитие',
        'Основы военной подготовки', 'Первая помощь', 'Безопасность в быту',
        'Безопасность на транспорте', 'Безопасность в природной среде',
        'Защита населения от чрезвычайных ситуаций'],
    'MUS': ['Музыка моего края', 'Народная музыка России',
        'Классическая музыка', 'Музыка театра и кино', 'Духовная музыка',
        'Современная музыкальная культура'],
    'ART': ['Восприятие произведений искусства', 'Графика', 'Живопись',
        'Скульптура', 'Декоративно-прикладное искусство', 'Архитектура',
        'Азбука цифровой графики'],
    'TECH': ['Производство и технологии', 'Обработка материалов',
        'Технологии обработки пищевых продуктов', 'Робототехника',
        'Компьютерная графика и черчение', 'Проектная деятельность'],
    'PE': ['Знания о физической культуре', 'Лёгкая атлетика',
        'Гимнастика с элементами акробатики', 'Баскетбол', 'Волейбол',
        'Лыжная подготовка', 'Подвижные игры', 'Комплекс ГТО'],
    'PROJ': ['Введение в проектную деятельность',
        'Выбор темы и планирование проекта', 'Работа с источниками',
        'Выполнение проекта', 'Оформление и защита проекта'],
    'FIN': ['Деньги и их функции', 'Семейный бюджет',
        'Банки и банковские продукты', 'Сбережения и инвестиции', 'Налоги',
        'Страхование', 'Финансовое мошенничество'],
    'RUSP': ['Орфография', 'Пунктуация', 'Текст и его анализ',
        'Сочинение-рассуждение', 'Подготовка к экзамену'],
    'MATHP': ['Текстовые задачи', 'Уравнения и неравенства с параметром',
        'Задачи на делимость', 'Планиметрия', 'Экономические задачи',
        'Подготовка к экзамену'],
    }
TOPIC_PARTS = ['{s}', '{s}: основные понятия', '{s}: правила и примеры',
    '{s}: работа с учебником', '{s}: упражнения', '{s}: работа с текстом',
    '{s}: практикум', '{s}: разбор ошибок', '{s}: закрепление',
    'Обобщение по теме «{s}»']
# Subjects with control works (from level 2); laboratory or practical works
CONTROL_SUBJECTS = {'RUS', 'LITR', 'LIT', 'NATL', 'ENG', 'MATH', 'ALG',
    'GEOM', 'PROB', 'INF', 'HIST', 'SOC', 'GEO', 'BIO', 'PHYS', 'CHEM',
    'ENV', 'OBZR'}
WORKS = {'PHYS': 'laboratory', 'CHEM': 'laboratory', 'BIO': 'laboratory',
    'GEO': 'practical', 'INF': 'practical'}
WORK_TOPIC = {'laboratory': 'Лабораторная работа по теме «{s}»',
    'practical': 'Практическая работа по теме «{s}»',
    'control': 'Контрольная работа по теме «{s}»'}
HOMEWORK = {
    'lang': ['Упр. {n}', '§ {p}, упр. {n}', 'Упр. {n}, правило с. {pg}',
        'Словарные слова с. {pg}, упр. {n}'],
    'read': ['Прочитать с. {pg}–{pg2}', 'Выразительное чтение с. {pg}',
        'Наизусть стихотворение с. {pg}', 'С. {pg}, ответить на вопросы'],
    'eng': ['Упр. {n} с. {pg}, выучить слова', 'Выучить слова, упр. {n}',
        'Рабочая тетрадь с. {pg}'],
    'math': ['№ {n}, {n2}', '№ {n}–{n2}', 'П. {p}, № {n}, {n2}'],
    'text': ['§ {p}, вопросы {q}', '§ {p}, пересказ', '§ {p}, вопросы с. {pg}',
        'Рабочая тетрадь с. {pg}'],
    'science': ['§ {p}, задачи {n}, {n2}', '§ {p}, упр. {q}'],
    'arts': ['Подготовить сообщение', 'Закончить работу',
        'Принести материалы к уроку'],
    }
HOMEWORK_KIND = {'RUS': 'lang', 'NATL': 'lang', 'RUSP': 'lang',
    'LITR': 'read', 'LIT': 'read', 'ENG': 'eng', 'MATH': 'math',
    'ALG': 'math', 'GEOM': 'math', 'PROB': 'math', 'MATHP': 'math',
    'PHYS': 'science', 'CHEM': 'science', 'INF': 'text', 'HIST': 'text',
    'SOC': 'text', 'GEO': 'text', 'BIO': 'text', 'ENV': 'text',
    'ORKSE': 'text', 'ODNKNR': 'text', 'OBZR': 'text', 'FIN': 'text',
    'MUS': 'arts', 'ART': 'arts', 'TECH': 'arts', 'PROJ': 'arts'}
# Task types by ir.model.data id: code, days a mark may come after the lesson
TASK_TYPES = {'О': 'task_type_answer', 'ДЗ': 'task_type_homework',
    'С': 'task_type_independent', 'К': 'task_type_control',
    'Д': 'task_type_dictation', 'Л': 'task_type_laboratory',
    'П': 'task_type_practical'}
TASK_DESCRIPTIONS = {'С': 'Самостоятельная работа', 'Д': 'Словарный диктант',
    'ДЗ': 'Проверка домашнего задания'}
DICTATION_SUBJECTS = {'RUS', 'NATL', 'ENG'}

# --- Names -----------------------------------------------------------------
SURNAMES = [
    'Иванов', 'Смирнов', 'Кузнецов', 'Попов', 'Васильев', 'Петров',
    'Соколов', 'Михайлов', 'Новиков', 'Фёдоров', 'Морозов', 'Волков',
    'Алексеев', 'Лебедев', 'Семёнов', 'Егоров', 'Павлов', 'Козлов',
    'Степанов', 'Николаев', 'Орлов', 'Андреев', 'Макаров', 'Никитин',
    'Захаров', 'Зайцев', 'Соловьёв', 'Борисов', 'Яковлев', 'Григорьев',
    'Романов', 'Воробьёв', 'Сергеев', 'Кузьмин', 'Фролов', 'Александров',
    'Дмитриев', 'Королёв', 'Гусев', 'Киселёв', 'Ильин', 'Максимов',
    'Поляков', 'Сорокин', 'Виноградов', 'Ковалёв', 'Белов', 'Медведев',
    'Антонов', 'Тарасов', 'Жуков', 'Баранов', 'Филиппов', 'Комаров',
    'Давыдов', 'Беляев', 'Герасимов', 'Богданов', 'Осипов', 'Сидоров',
    'Матвеев', 'Титов', 'Марков', 'Миронов', 'Крылов', 'Куликов',
    'Карпов', 'Власов', 'Мельников', 'Денисов', 'Гаврилов', 'Тихонов',
    'Казаков', 'Афанасьев', 'Данилов', 'Савельев', 'Тимофеев', 'Фомин',
    'Чернов', 'Абрамов', 'Мартынов', 'Ефимов', 'Федотов', 'Щербаков',
    'Назаров', 'Калинин', 'Исаев', 'Чернышёв', 'Быков', 'Маслов',
    'Родионов', 'Коновалов', 'Лазарев', 'Воронин', 'Климов', 'Филатов',
    'Пономарёв', 'Голубев', 'Кудрявцев', 'Прохоров', 'Наумов', 'Потапов',
    'Журавлёв', 'Овчинников', 'Трофимов', 'Леонов', 'Соболев', 'Ермаков',
    'Колесников', 'Гончаров', 'Емельянов', 'Никифоров', 'Грачёв', 'Котов',
    'Гришин', 'Ефремов', 'Архипов', 'Громов', 'Кириллов', 'Малышев',
    'Панов', 'Моисеев', 'Румянцев', 'Акимов', 'Кондратьев', 'Бирюков',
    'Горбунов', 'Анисимов', 'Ерёмин', 'Тихомиров', 'Галкин', 'Лукьянов',
    'Михеев', 'Скворцов', 'Юдин', 'Белоусов', 'Нестеров', 'Симонов',
    'Прокофьев', 'Харитонов', 'Князев', 'Цветков', 'Левин', 'Митрофанов',
    'Воронов', 'Аксёнов', 'Софронов', 'Мальцев', 'Логинов', 'Горшков',
    'Савин', 'Краснов', 'Майоров', 'Демидов', 'Елисеев', 'Рыбаков',
    'Сафонов', 'Плотников', 'Демин', 'Хохлов', 'Фадеев', 'Молчанов',
    'Игнатов', 'Литвинов', 'Ершов', 'Ушаков', 'Дементьев', 'Рябов',
    'Мухин', 'Калашников', 'Леонтьев', 'Лобанов', 'Кузин', 'Корнилов',
    'Шубин', 'Бобров', 'Третьяков', 'Муравьёв', 'Стрельников',
    'Ковальчук', 'Бондаренко', 'Шевченко', 'Ткаченко', 'Кравченко',
    'Савченко', 'Мельник', 'Полищук', 'Черных', 'Седых', 'Белых',
    'Добровольский', 'Покровский', 'Успенский', 'Вишневский', 'Зарецкий',
    'Толстой', 'Полевой',
    ]
# Names with (male, female) patronymic formed from them
MALE_NAMES = {
    'Александр': ('Александрович', 'Александровна'),
    'Алексей': ('Алексеевич', 'Алексеевна'),
    'Анатолий': ('Анатольевич', 'Анатольевна'),
    'Андрей': ('Андреевич', 'Андреевна'),
    'Антон': ('Антонович', 'Антоновна'),
    'Арсений': ('Арсеньевич', 'Арсеньевна'),
    'Артём': ('Артёмович', 'Артёмовна'),
    'Борис': ('Борисович', 'Борисовна'),
    'Вадим': ('Вадимович', 'Вадимовна'),
    'Валерий': ('Валерьевич', 'Валерьевна'),
    'Василий': ('Васильевич', 'Васильевна'),
    'Виктор': ('Викторович', 'Викторовна'),
    'Виталий': ('Витальевич', 'Витальевна'),
    'Владимир': ('Владимирович', 'Владимировна'),
    'Вячеслав': ('Вячеславович', 'Вячеславовна'),
    'Геннадий': ('Геннадьевич', 'Геннадьевна'),
    'Георгий': ('Георгиевич', 'Георгиевна'),
    'Глеб': ('Глебович', 'Глебовна'),
    'Григорий': ('Григорьевич', 'Григорьевна'),
    'Даниил': ('Даниилович', 'Данииловна'),
    'Денис': ('Денисович', 'Денисовна'),
    'Дмитрий': ('Дмитриевич', 'Дмитриевна'),
    'Евгений': ('Евгеньевич', 'Евгеньевна'),
    'Егор': ('Егорович', 'Егоровна'),
    'Иван': ('Иванович', 'Ивановна'),
    'Игорь': ('Игоревич', 'Игоревна'),
    'Илья': ('Ильич', 'Ильинична'),
    'Кирилл': ('Кириллович', 'Кирилловна'),
    'Константин': ('Константинович', 'Константиновна'),
    'Лев': ('Львович', 'Львовна'),
    'Леонид': ('Леонидович', 'Леонидовна'),
    'Марк': ('Маркович', 'Марковна'),
    'Матвей': ('Матвеевич', 'Матвеевна'),
    'Максим': ('Максимович', 'Максимовна'),
    'Михаил': ('Михайлович', 'Михайловна'),
    'Никита': ('Никитич', 'Никитична'),
    'Николай': ('Николаевич', 'Николаевна'),
    'Олег': ('Олегович', 'Олеговна'),
    'Павел': ('Павлович', 'Павловна'),
    'Пётр': ('Петрович', 'Петровна'),
    'Роман': ('Романович', 'Романовна'),
    'Сергей': ('Сергеевич', 'Сергеевна'),
    'Станислав': ('Станиславович', 'Станиславовна'),
    'Степан': ('Степанович', 'Степановна'),
    'Тимофей': ('Тимофеевич', 'Тимофеевна'),
    'Фёдор': ('Фёдорович', 'Фёдоровна'),
    'Юрий': ('Юрьевич', 'Юрьевна'),
    'Ярослав': ('Ярославович', 'Ярославовна'),
    }
BOYS = ['Артём', 'Александр', 'Максим', 'Михаил', 'Иван', 'Даниил',
    'Дмитрий', 'Кирилл', 'Матвей', 'Егор', 'Андрей', 'Никита', 'Илья',
    'Алексей', 'Тимофей', 'Роман', 'Владимир', 'Ярослав', 'Фёдор', 'Георгий',
    'Лев', 'Марк', 'Степан', 'Сергей', 'Арсений', 'Глеб', 'Николай',
    'Денис', 'Павел', 'Константин']
GIRLS = ['Анастасия', 'Мария', 'Анна', 'Виктория', 'Полина', 'Елизавета',
    'Екатерина', 'Дарья', 'Софья', 'Алиса', 'Ксения', 'Варвара',
    'Александра', 'Валерия', 'Вероника', 'Арина', 'Ева', 'Василиса',
    'Ульяна', 'Милана', 'Кристина', 'Алёна', 'Татьяна', 'Ольга', 'Юлия',
    'Маргарита', 'Таисия', 'Злата', 'Есения', 'Диана']
FATHERS = ['Александр', 'Сергей', 'Андрей', 'Алексей', 'Дмитрий', 'Евгений',
    'Максим', 'Денис', 'Михаил', 'Владимир', 'Иван', 'Николай', 'Роман',
    'Павел', 'Артём', 'Виталий', 'Олег', 'Игорь', 'Юрий', 'Константин',
    'Виктор', 'Вадим', 'Антон', 'Станислав', 'Илья', 'Василий', 'Никита',
    'Вячеслав', 'Кирилл', 'Егор']
GRANDFATHERS = ['Александр', 'Сергей', 'Владимир', 'Николай', 'Виктор',
    'Анатолий', 'Василий', 'Геннадий', 'Юрий', 'Михаил', 'Иван', 'Пётр',
    'Валерий', 'Борис', 'Григорий', 'Алексей', 'Леонид', 'Евгений', 'Фёдор',
    'Андрей', 'Игорь', 'Олег', 'Павел', 'Степан']
MOTHERS = ['Елена', 'Ольга', 'Наталья', 'Татьяна', 'Светлана', 'Ирина',
    'Анна', 'Юлия', 'Екатерина', 'Мария', 'Марина', 'Анастасия', 'Евгения',
    'Оксана', 'Людмила', 'Надежда', 'Галина', 'Вера', 'Любовь', 'Ксения',
    'Валентина', 'Дарья', 'Алёна', 'Виктория', 'Кристина', 'Яна',
    'Александра', 'Жанна']
STREETS = ['ул. Ленина', 'ул. Советская', 'ул. Школьная', 'ул. Садовая',
    'ул. Молодёжная', 'ул. Центральная', 'ул. Мира', 'ул. Набережная',
    'ул. Полевая', 'ул. Зелёная', 'ул. Степная', 'пер. Почтовый',
    'ул. Гагарина', 'ул. Комсомольская', 'ул. Октябрьская', 'пер. Речной']
JOBS = ['АО «Агрофирма Пролетарская», бухгалтер',
    'АО «Агрофирма Пролетарская», агроном',
    'АО «Агрофирма Пролетарская», зоотехник',
    'ФАП с. Пролетарское, фельдшер',
    'Администрация Пролетарского сельского поселения, специалист',
    'ИП, продавец', 'ООО «Элеватор», оператор',
    'Отделение Почты России, оператор',
    'СДК с. Пролетарское, худ. руководитель',
    'Индивидуальный предприниматель', 'Вахтовый метод, г. Сургут']
JOBS_MALE = ['АО «Агрофирма Пролетарская», механизатор',
    'АО «Агрофирма Пролетарская», водитель',
    'ПАО «Россети», электромонтёр', 'ООО «СтройДор», дорожный рабочий',
    'ОМВД, участковый уполномоченный', 'Пожарная часть, пожарный']
JOBS_FEMALE = ['МКДОУ «Детский сад «Колосок», воспитатель',
    'Магазин «Пятёрочка», кассир', 'Домохозяйка',
    'Отпуск по уходу за ребёнком']
LEAVING_REASONS = [
    'Выбыл в МБОУ «СОШ № 3» г. Ростова-на-Дону в связи со сменой места '
    'жительства',
    'Выбыла в МАОУ «Гимназия № 1» г. Краснодара в связи с переездом семьи',
    'Выбыл на семейное обучение по заявлению родителей',
    ]
TRANSLIT = dict(zip('абвгдеёжзийклмнопрстуфхцчшщъыьэюя', [
    'a', 'b', 'v', 'g', 'd', 'e', 'e', 'zh', 'z', 'i', 'y', 'k', 'l', 'm',
    'n', 'o', 'p', 'r', 's', 't', 'u', 'f', 'kh', 'ts', 'ch', 'sh', 'shch',
    '', 'y', '', 'e', 'yu', 'ya']))


def translit(text):
    return ''.join(TRANSLIT.get(c, c) for c in text.lower())


def feminine(surname):
    "The female form of a Russian family name"
    for male, female in [('ский', 'ская'), ('цкий', 'цкая'), ('ой', 'ая'),
            ('ов', 'ова'), ('ёв', 'ёва'), ('ев', 'ева'), ('ин', 'ина'),
            ('ын', 'ына')]:
        if surname.endswith(male):
            return surname[:-len(male)] + female
    return surname  # -ко, -ук, -ых, -их, -ник: the same for both


def snils(rng, used):
    "A random SNILS number that passes the Russian checksum"
    while True:
        number = rng.randrange(2_000_000, 999_999_999)
        if number in used:
            continue
        used.add(number)
        digits = '%09d' % number
        total = sum(int(d) * w for d, w in zip(digits, range(9, 0, -1)))
        control = total % 101
        if control == 100:
            control = 0
        return '%s-%s-%s %02d' % (
            digits[:3], digits[3:6], digits[6:], control)


def phone(rng, used):
    while True:
        number = '+7 9%02d %03d-%02d-%02d' % (
            rng.randrange(0, 100), rng.randrange(0, 1000),
            rng.randrange(0, 100), rng.randrange(0, 100))
        if number not in used:
            used.add(number)
            return number


def random_date(rng, year, start_month=1, end_month=12):
    start = dt.date(year, start_month, 1)
    end = (dt.date(year + (end_month == 12), end_month % 12 + 1, 1)
        - dt.timedelta(days=1))
    return start + dt.timedelta(days=rng.randrange((end - start).days + 1))


def weekday_on_or_after(date, weekday):
    return date + dt.timedelta(days=(weekday - date.weekday()) % 7)


def split_sizes(total, weights):
    "Split total into integers proportional to weights (largest remainder)"
    raw = [total * w / sum(weights) for w in weights]
    sizes = [int(r) for r in raw]
    order = sorted(range(len(raw)), key=lambda i: (sizes[i] - raw[i], i))
    for i in order[:total - sum(sizes)]:
        sizes[i] += 1
    return sizes


class Calendar:
    "The Russian school calendar of the year starting on 1 September"

    def __init__(self, start_year):
        y = start_year
        self.name = '%s/%s' % (y, y + 1)
        self.start = dt.date(y, 9, 1)
        if self.start.weekday() == 6:   # 1 September on a Sunday
            self.start += dt.timedelta(days=1)
        self.end = dt.date(y + 1, 5, 26)
        # Autumn: the Saturday before the week of 30 October to its Sunday
        monday = dt.date(y, 10, 30) - dt.timedelta(
            days=dt.date(y, 10, 30).weekday())
        autumn = (monday - dt.timedelta(days=2), monday + dt.timedelta(days=6))
        winter = (dt.date(y, 12, 29), dt.date(y + 1, 1, 11))
        monday = weekday_on_or_after(dt.date(y + 1, 3, 22), 0)
        spring = (monday - dt.timedelta(days=2), monday + dt.timedelta(days=6))
        monday = dt.date(y + 1, 2, 15) - dt.timedelta(
            days=dt.date(y + 1, 2, 15).weekday())
        february = (monday - dt.timedelta(days=2),
            monday + dt.timedelta(days=6))
        self.holidays = [
            ('Осенние каникулы', 'holiday', autumn, False),
            ('Зимние каникулы', 'holiday', winter, False),
            ('Дополнительные каникулы для 1-х классов', 'holiday', february,
                True),
            ('Весенние каникулы', 'holiday', spring, False),
            ]
        for name, date in [
                ('День народного единства', dt.date(y, 11, 4)),
                ('День защитника Отечества', dt.date(y + 1, 2, 23)),
                ('Международный женский день', dt.date(y + 1, 3, 8)),
                ('Праздник Весны и Труда', dt.date(y + 1, 5, 1)),
                ('День Победы', dt.date(y + 1, 5, 9)),
                ]:
            if not any(s <= date <= e
                    for _, _, (s, e), first in self.holidays if not first):
                self.holidays.append((name, 'day_off', (date, date), False))
                if date.weekday() >= 5:
                    # Labour Code art. 112: the day off moves to Monday
                    monday = weekday_on_or_after(date, 0)
                    self.holidays.append(('%s (перенос выходного дня)' % name,
                            'day_off', (monday, monday), False))
        self.holidays.sort(key=lambda h: h[2][0])
        day = dt.timedelta(days=1)
        self.quarters = [
            ('1 четверть', self.start, autumn[0] - day),
            ('2 четверть', autumn[1] + day, winter[0] - day),
            ('3 четверть', winter[1] + day, spring[0] - day),
            ('4 четверть', spring[1] + day, self.end),
            ]
        self.halves = [
            ('1 полугодие', self.start, winter[0] - day),
            ('2 полугодие', winter[1] + day, self.end),
            ]

    def school_day(self, date):
        return (self.start <= date <= self.end and date.weekday() < 5
            and not any(s <= date <= e
                for _, _, (s, e), first in self.holidays if not first))


def start_year_for(today):
    "The academic year holding today; in summer, the one that just ended"
    return today.year if today.month >= 9 else today.year - 1


class Step:
    "Print one line per step: what, how many, how long"

    def __init__(self):
        self.start = self.last = time.monotonic()

    def __call__(self, label, count=None):
        now = time.monotonic()
        text = '  %-44s' % label
        if count is not None:
            text += '%7d' % count
        else:
            text += ' ' * 7
        print('%s %6.2f s' % (text, now - self.last), flush=True)
        self.last = now

    def total(self):
        return time.monotonic() - self.start


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('-c', '--config', required=True,
        help="the trytond configuration file")
    parser.add_argument('-d', '--database', required=True)
    parser.add_argument('--students', type=int, default=250,
        help="about how many students (default: 250)")
    parser.add_argument('--parallels', type=int, default=None,
        help="classes per level (default: 1 per 275 students, at least 1)")
    parser.add_argument('--seed', type=int, default=1)
    parser.add_argument('--today', type=dt.date.fromisoformat,
        default=dt.date.today(),
        help="the day the demo is seen on, as YYYY-MM-DD (default: today)")
    parser.add_argument('--password', default='demo-2026',
        help="the password of every demo login (default: demo-2026)")
    args = parser.parse_args(argv)
    if args.students < 11:
        parser.error("--students must be at least 11")
    if args.parallels is None:
        args.parallels = max(1, round(args.students / 275))
    if not 1 <= args.parallels <= len(LETTERS):
        parser.error("--parallels must be between 1 and %d" % len(LETTERS))
    if args.students < 11 * args.parallels * 2:
        parser.error("too few students for %d parallels" % args.parallels)
    return args


class Generator:

    def __init__(self, args, pool):
        self.args = args
        self.pool = pool
        self.rng = random.Random(args.seed)
        self.step = Step()
        self.today = args.today
        self.cal = Calendar(start_year_for(args.today))
        self.used_snils = set()
        self.used_phones = set()
        self.used_emails = set()
        self.logins = []

    def get(self, name):
        return self.pool.get(name)

    def create_parties(self, names):
        "Create parties in bulk, their codes taken at once from the sequence"
        Party = self.get('party.party')
        sequence = Party._code_sequence()
        codes = (list(sequence.get_many(n=len(names))) if sequence
            else [None] * len(names))
        return Party.create([{'name': name, 'code': code}
                for name, code in zip(names, codes)])

    @staticmethod
    def full_name(person):
        return ' '.join(filter(None, (person['last_name'],
                    person['first_name'], person.get('middle_name'))))

    # --- people --------------------------------------------------------
    def adult(self, gender, surname=None, born=None):
        rng = self.rng
        surname = surname or rng.choice(SURNAMES)
        if gender == 'male':
            first = rng.choice(FATHERS)
            middle = MALE_NAMES[rng.choice(GRANDFATHERS)][0]
        else:
            first = rng.choice(MOTHERS)
            middle = MALE_NAMES[rng.choice(GRANDFATHERS)][1]
            surname = feminine(surname)
        return {'last_name': surname, 'first_name': first,
            'middle_name': middle}

    def email(self, person):
        base = '%s.%s' % (translit(person['first_name']),
            translit(person['last_name']))
        while True:
            email = '%s%02d@example.ru' % (base, self.rng.randrange(100))
            if email not in self.used_emails:
                self.used_emails.add(email)
                return email

    # --- steps ---------------------------------------------------------
    def check_absent(self):
        Company = self.get('company.company')
        if Company.search([('party.name', '=', SCHOOL_NAME)], limit=1):
            print("demo_school: the school %s already exists in database "
                "%r; nothing done (drop the database to rebuild it)"
                % (SCHOOL_NAME, self.args.database), file=sys.stderr)
            sys.exit(2)

    def create_company(self):
        Currency = self.get('currency.currency')
        Party = self.get('party.party')
        Company = self.get('company.company')
        Lang = self.get('ir.lang')
        rub = Currency.search([('code', '=', 'RUB')], limit=1)
        if rub:
            rub, = rub
        else:
            rub, = Currency.create([{
                        'name': 'Российский рубль', 'code': 'RUB',
                        'numeric_code': '643', 'symbol': '₽',
                        'rounding': Decimal('0.01'), 'digits': 2,
                        }])
        party, = Party.create([{'name': SCHOOL_NAME}])
        self.company, = Company.create([{
                    'party': party.id, 'currency': rub.id,
                    'timezone': 'Europe/Moscow',
                    'header': '%s\n%s' % (SCHOOL_NAME, VILLAGE),
                    }])
        langs = Lang.search([('code', '=', 'ru')], limit=1)
        if not langs:
            raise SystemExit("demo_school: language 'ru' is missing; "
                "run trytond-admin with -l ru")
        self.lang, = langs
        if not self.lang.translatable:
            Lang.write([self.lang], {'translatable': True})
        # The database's language: of users without one, of notifications
        Configuration = self.get('ir.configuration')
        configuration = Configuration(1)
        configuration.language = 'ru'
        configuration.save()
        self.step("school, currency RUB, language ru", 1)

    def create_year(self):
        Year = self.get('school.year')
        Period = self.get('school.period')
        Level = self.get('school.level')
        Holiday = self.get('school.holiday')
        cal = self.cal
        self.levels = Level.create([{
                    'number': n,
                    'name': '%s классы' % LEVEL_NAMES[n],
                    'period_kind': 'half' if n >= 10 else 'quarter',
                    'week_days': 5,
                    'marks': n != 1,
                    } for n in range(1, 12)])
        self.year, = Year.create([{
                    'name': cal.name,
                    'start_date': cal.start,
                    'end_date': cal.end,
                    }])
        self.periods = periods = Period.create([{
                    'year': self.year.id, 'name': name, 'kind': kind,
                    'sequence': i, 'start_date': s, 'end_date': e,
                    } for kind, dates in [
                    ('quarter', cal.quarters), ('half', cal.halves)]
                for i, (name, s, e) in enumerate(dates, 1)])
        holidays = Holiday.create([{
                    'year': self.year.id, 'name': name, 'kind': kind,
                    'start_date': s, 'end_date': e,
                    'levels': [('add', [self.levels[0].id])] if first else [],
                    } for name, kind, (s, e), first in cal.holidays])
        self.step("year %s, levels, periods, holidays" % cal.name,
            1 + len(self.levels) + len(periods) + len(holidays))

    def create_subjects(self):
        Subject = self.get('school.subject')
        Line = self.get('school.curriculum.line')
        subjects = Subject.create([{
                    'sequence': i, 'code': RUSSIAN_CODES[code], 'name': name,
                    'short_name': short,
                    } for i, (code, name, short, _) in enumerate(SUBJECTS, 1)])
        self.subjects = {code: s for (code, *_), s in zip(SUBJECTS, subjects)}
        self.specialty = {code: spec for code, _, _, spec in SUBJECTS}
        # hours[level number] = [(code, hours, elective)]
        self.hours = defaultdict(list)
        for code, _, _, _ in SUBJECTS:
            for n in range(1, 12):
                hours = CURRICULUM.get(code, [0] * 11)[n - 1]
                if hours:
                    self.hours[n].append((code, hours, False))
                if n in ELECTIVES.get(code, {}):
                    self.hours[n].append((code, ELECTIVES[code][n], True))
        lines = Line.create([{
                    'year': self.year.id,
                    'level': self.levels[n - 1].id,
                    'subject': self.subjects[code].id,
                    'hours': Decimal(hours),
                    'elective': elective,
                    } for n in range(1, 12) for code, hours, elective
                in self.hours[n]])
        self.step("subjects and curriculum lines",
            len(subjects) + len(lines))

    def plan_classes(self):
        "Class names, sizes; teaching units by specialty"
        P = self.args.parallels
        level_sizes = split_sizes(self.args.students, LEVEL_WEIGHTS)
        self.class_plan = []    # (level number, letter, size)
        for n, size in zip(range(1, 12), level_sizes):
            for letter, part in zip(LETTERS, split_sizes(size, [1] * P)):
                self.class_plan.append((n, letter, part))
        # units: (specialty, class index, subjects, group or None, hours)
        self.units = []
        for ci, (n, letter, _) in enumerate(self.class_plan):
            by_spec = defaultdict(list)
            for code, hours, _ in self.hours[n]:
                spec = self.specialty[code]
                if n <= 4 and code in PRIMARY_SUBJECTS:
                    spec = 'primary'
                if n >= SPLIT_FROM.get(code, 99):
                    for group in (1, 2):
                        self.units.append((spec, ci, [code], group, hours))
                else:
                    by_spec[spec].append((code, hours))
            for spec in sorted(by_spec):
                codes = [c for c, _ in by_spec[spec]]
                self.units.append((spec, ci, codes, None,
                        sum(h for _, h in by_spec[spec])))

    def create_staff(self):
        Employee = self.get('company.employee')
        rng = self.rng
        spec_hours = defaultdict(int)
        for spec, _, _, _, hours in self.units:
            spec_hours[spec] += hours
        # slots: (position, specialty, capacity)
        slots = [('director', None, 0), ('deputy_academic', 'math', 0),
            ('deputy_pastoral', None, 0), ('administrator', None, 0)]
        primary_classes = [ci for ci, (n, _, _) in enumerate(self.class_plan)
            if n <= 4]
        slots += [('teacher', 'primary', 1)] * len(primary_classes)
        for spec in sorted(spec_hours):
            if spec == 'primary':
                continue
            hours = spec_hours[spec] - (ZAVUCH_LOAD if spec == 'math' else 0)
            count = max(SPECIALTY_MIN.get(spec, 1),
                int(hours / TEACHER_LOAD + 0.5))
            slots += [('teacher', spec, 1)] * count
        people = []
        for position, spec, _ in slots:
            female = rng.random() < (0.85 if position == 'teacher' else 0.7)
            people.append(self.adult('female' if female else 'male'))
        parties = self.create_parties([self.full_name(p) for p in people])
        self.employees = Employee.create([{
                    'party': party.id,
                    'company': self.company.id,
                    'position': position,
                    'start_date': dt.date(
                        rng.randrange(1988, self.cal.start.year),
                        8, rng.choice([15, 20, 25, 28])),
                    } for party, (position, _, _) in zip(parties, slots)])
        self.staff = [{'employee': e, 'position': pos, 'spec': spec,
                    'person': person, 'units': [], 'load': 0,
                    'capacity': (ZAVUCH_LOAD / TEACHER_LOAD
                        if pos == 'deputy_academic' else 1)}
            for e, (pos, spec, _), person in zip(
                self.employees, slots, people)]
        self.step("staff (parties, employees)", len(self.employees))

    def assign_teaching(self):
        "Share the teaching units among the teachers of each specialty"
        by_spec = defaultdict(list)
        for s in self.staff:
            if s['spec']:
                by_spec[s['spec']].append(s)
        primary = iter(by_spec['primary'])
        self.class_teacher = {}
        for ci, (n, _, _) in enumerate(self.class_plan):
            if n <= 4:
                self.class_teacher[ci] = next(primary)
        units = sorted(self.units, key=lambda u: (-u[4], u[1], u[3] or 0))
        for spec, ci, codes, group, hours in units:
            if spec == 'primary':
                teacher = self.class_teacher[ci]
            else:
                candidates = by_spec[spec]
                if group == 2 and len(candidates) > 1:
                    sibling = [t for t in candidates
                        if any(u[1] == ci and u[2] == codes and u[3] == 1
                            for u in t['units'])]
                    candidates = [t for t in candidates
                        if t not in sibling] or candidates
                teacher = min(candidates, key=lambda t: (
                        (t['load'] + hours) / t['capacity'],
                        by_spec[spec].index(t)))
            teacher['units'].append((spec, ci, codes, group, hours))
            teacher['load'] += hours
        # Class teachers of levels 5-11, among the class's own teachers
        taken = {id(s) for s in self.class_teacher.values()}
        for ci, (n, _, _) in enumerate(self.class_plan):
            if n <= 4:
                continue
            free = [s for s in self.staff if s['position'] == 'teacher'
                and s['spec'] != 'primary' and id(s) not in taken]
            own = [s for s in free if any(u[1] == ci for u in s['units'])]
            teacher = self.rng.choice(own or free)
            self.class_teacher[ci] = teacher
            taken.add(id(teacher))

    def create_classes(self):
        Class = self.get('school.class')
        vlist = []
        for ci, (n, letter, _) in enumerate(self.class_plan):
            vlist.append({
                    'year': self.year.id,
                    'level': self.levels[n - 1].id,
                    'letter': letter,
                    'name': '%s%s' % (n, letter),
                    'class_teacher': self.class_teacher[ci]['employee'].id,
                    'room': 'каб. %s' % (ci + 1 if n <= 4 else 10 + ci),
                    })
        self.classes = Class.create(vlist)
        self.step("classes", len(self.classes))

    def create_people(self):
        "Families of students and parents"
        Student = self.get('school.student')
        Parent = self.get('school.parent')
        Guardian = self.get('school.student.guardian')
        rng = self.rng
        start_year = self.cal.start.year
        free = {ci: size for ci, (_, _, size) in enumerate(self.class_plan)}
        level_of = {ci: n for ci, (n, _, _) in enumerate(self.class_plan)}
        families = []
        while any(free.values()):
            k = rng.choices([1, 2, 3], [68, 24, 8])[0]
            open_levels = sorted({level_of[ci] for ci, f in free.items()
                    if f})
            levels = rng.sample(open_levels, min(k, len(open_levels)))
            children = []
            for n in sorted(levels):
                cis = [ci for ci, f in sorted(free.items())
                    if f and level_of[ci] == n]
                ci = rng.choices(cis, [free[c] for c in cis])[0]
                free[ci] -= 1
                children.append(ci)
            families.append(children)
        # Make sure a parent has two children in the school (for roditel)
        families.sort(key=lambda f: len(f) != 2)
        students, parents, guardians, self.student_class = [], [], [], []
        file_seq = 0
        for fi, children in enumerate(families):
            surname = rng.choice(SURNAMES)
            father_name = rng.choice(FATHERS)
            mother_born = start_year - 6 - max(level_of[ci]
                for ci in children) - rng.randrange(22, 36)
            address = '%s, %s, д. %d%s' % (VILLAGE, rng.choice(STREETS),
                rng.randrange(1, 80),
                ', кв. %d' % rng.randrange(1, 13) if rng.random() < 0.3
                else '')
            members = []
            roll = rng.random()
            if roll < 0.97 or fi == 0:
                members.append(('mother', 'female', mother_born))
            if roll >= 0.97 or rng.random() < 0.68:
                members.append(('father', 'male',
                        mother_born - rng.randrange(0, 6)))
            family_parents = []
            for relation, gender, born in members:
                person = self.adult(gender, surname)
                if relation == 'father':
                    person['first_name'] = father_name
                person.update({
                        'phone': phone(rng, self.used_phones),
                        'email': (self.email(person) if rng.random() < 0.8
                            else None),
                        'work': rng.choice(JOBS + (JOBS_MALE
                                if gender == 'male' else JOBS_FEMALE)),
                        'sms_consent': rng.random() < 0.9,
                        })
                person['email_consent'] = bool(
                    person['email'] and rng.random() < 0.75)
                family_parents.append((len(parents), relation))
                parents.append(person)
            for ci in children:
                n = level_of[ci]
                gender = rng.choice(['male', 'female'])
                if gender == 'male':
                    first = rng.choice(BOYS)
                    middle = MALE_NAMES[father_name][0]
                    last = surname
                else:
                    first = rng.choice(GIRLS)
                    middle = MALE_NAMES[father_name][1]
                    last = feminine(surname)
                birth = random_date(rng, start_year - 6 - n)
                file_seq += 1
                if n >= 9 and birth <= dt.date(start_year - 14, 9, 1):
                    document = 'Паспорт РФ %02d %02d %06d' % (
                        rng.randrange(1, 99), rng.randrange(10, 26),
                        rng.randrange(1000000))
                else:
                    document = ('Свидетельство о рождении %s-КН № %06d' % (
                            rng.choice(['I', 'II', 'III', 'IV', 'V']),
                            rng.randrange(1000000)))
                students.append({
                        'last_name': last, 'first_name': first,
                        'middle_name': middle,
                        'gender': gender,
                        'birth_date': birth,
                        'snils': snils(rng, self.used_snils),
                        'file_number': '%s-%04d' % (last[0], file_seq),
                        'identity_document': document,
                        'address': address,
                        'health_group': rng.choices(
                            ['1', '2', '3', '4'], [40, 48, 10, 2])[0],
                        })
                if n >= 8 and rng.random() < 0.3:
                    students[-1]['phone'] = phone(rng, self.used_phones)
                self.student_class.append(ci)
                for pi, relation in family_parents:
                    guardians.append((len(students) - 1, pi, relation))
        self.families = families
        for values, party in zip(students, self.create_parties(
                    [self.full_name(v) for v in students])):
            values['party'] = party.id
        self.students = Student.create(students)
        self.step("students (with parties)", len(self.students))
        for values, party in zip(parents, self.create_parties(
                    [self.full_name(v) for v in parents])):
            values['party'] = party.id
        self.parents = Parent.create(parents)
        self.step("parents (with parties)", len(self.parents))
        self.guardians = Guardian.create([{
                    'student': self.students[si].id,
                    'parent': self.parents[pi].id,
                    'relation': relation,
                    'legal_representative': True,
                    } for si, pi, relation in guardians])
        self.step("student-parent links", len(self.guardians))
        self.guardian_pairs = guardians

    def school_days(self, start, end):
        day, days = start, []
        while day <= end:
            if self.cal.school_day(day):
                days.append(day)
            day += dt.timedelta(days=1)
        return days

    def pick_demo_people(self):
        "The student of 5А and the parent of two children who log in"
        rng = self.rng
        five_a = [i for i, ci in enumerate(self.student_class)
            if self.class_plan[ci][:2] == (5, 'А')]
        self.uchenik = rng.choice(five_a)
        pairs = defaultdict(list)
        for si, pi, relation in self.guardian_pairs:
            pairs[pi].append(si)
        self.roditel = next(pi for pi, sis in sorted(pairs.items())
            if len(sis) == 2 and self.uchenik not in sis)
        self.reserved = {self.uchenik, *pairs[self.roditel]}

    def create_orders(self):
        Order = self.get('school.order')
        Line = self.get('school.order.line')
        rng = self.rng
        cal = self.cal
        start = cal.start
        # Events of the year: arrivals, transfers, leavings, before today
        days = self.school_days(start + dt.timedelta(days=21),
            min(self.today, cal.end))
        arrivals, transfers, leavings = [], [], []
        if days:
            candidates = [i for i in range(len(self.students))
                if i not in self.reserved]
            rng.shuffle(candidates)
            arrivals = sorted(candidates[:2])
            leavings = [i for i in candidates[2:]
                if 2 <= self.class_plan[self.student_class[i]][0] <= 9][:2]
            if self.args.parallels > 1:
                transfers = [i for i in candidates[4:]
                    if self.class_plan[self.student_class[i]][1] == 'А'
                    and i not in leavings][:3]
        else:
            print("  (--today is before the 4th week of the year: "
                "no transfers or leavings)")
        number = iter(range(rng.randrange(40, 60), 10000))
        orders, lines = [], []

        def order(kind, date, description, order_lines):
            orders.append({'number': '%d-у' % next(number), 'date': date,
                    'kind': kind, 'description': description})
            lines.append(order_lines)

        # One order per class at the start of the year (the module applies
        # an order line by line: small orders keep that fast)
        for ci, (n, letter, _) in enumerate(self.class_plan):
            order('enrolment', start - dt.timedelta(days=7 if n == 1 else 3),
                ('О зачислении в %s класс на %s учебный год' if n == 1
                    else 'О комплектовании %s класса на %s учебный год')
                % (self.classes[ci].name, cal.name),
                [(i, start, self.classes[ci], None)
                    for i, cj in enumerate(self.student_class)
                    if cj == ci and i not in arrivals])
        events = sorted(rng.sample(days, min(len(days),
                    len(arrivals) + len(transfers) + len(leavings))))
        events = iter(events)
        for i in arrivals:
            date = next(events)
            order('enrolment', date - dt.timedelta(days=1),
                'О зачислении в порядке перевода из другой организации',
                [(i, date, self.classes[self.student_class[i]],
                    'Прибыл(а) из МБОУ «СОШ № 2» г. Волгодонска')])
        self.transferred = {}
        for i in transfers:
            date = next(events)
            ci = self.student_class[i]
            n, letter, _ = self.class_plan[ci]
            target = next(cj for cj, (m, l, _) in enumerate(self.class_plan)
                if m == n and l != letter)
            self.transferred[i] = target
            order('transfer', date - dt.timedelta(days=2),
                'О переводе в параллельный класс',
                [(i, date, self.classes[target],
                    'По заявлению родителей (законных представителей)')])
        for k, i in enumerate(leavings):
            date = next(events)
            order('leaving', date, 'Об отчислении в связи с переводом',
                [(i, date, None, LEAVING_REASONS[k % len(LEAVING_REASONS)])])
        orders = Order.create(orders)
        line_records = Line.create([{
                    'order': o.id, 'student': self.students[i].id,
                    'date': date, 'class_': class_.id if class_ else None,
                    'reason': reason,
                    } for o, order_lines in zip(orders, lines)
                for i, date, class_, reason in order_lines])
        self.step("orders and order lines", len(orders) + len(line_records))
        # One order per call: Order.apply reads the lines of all the orders
        # it is given again after each enrolment it creates (O(N²))
        for order in sorted(orders, key=lambda o: (o.date, o.id)):
            Order.apply([Order(order.id)])
        self.step("orders applied (enrolments: %d arrivals, %d transfers, "
            "%d leavings)" % (len(arrivals), len(transfers), len(leavings)),
            len(line_records))
        self.orders = orders

    def create_subgroups_and_teaching(self):
        Subgroup = self.get('school.subgroup')
        Teaching = self.get('school.teaching')
        members = defaultdict(list)   # class index: student indexes
        for i, ci in enumerate(self.student_class):
            members[ci].append(i)
            if i in self.transferred:
                members[self.transferred[i]].append(i)
        keys, vlist = [], []
        for spec, ci, codes, group, hours in self.units:
            if group is None:
                continue
            ordered = sorted(members[ci], key=lambda i: (
                    self.students[i].last_name, self.students[i].first_name,
                    i))
            half = (len(ordered) + 1) // 2
            part = ordered[:half] if group == 1 else ordered[half:]
            keys.append((ci, codes[0], group))
            vlist.append({
                    'class_': self.classes[ci].id,
                    'subject': self.subjects[codes[0]].id,
                    'name': 'Группа %d' % group,
                    'students': [('add', [self.students[i].id
                                for i in part])],
                    })
        subgroups = dict(zip(keys, Subgroup.create(vlist)))
        self.step("subgroups (language, труд)", len(subgroups))
        vlist = []
        self.teaching_meta = []   # (staff, class index, code, group)
        hours_of = {}
        for n in range(1, 12):
            for code, hours, _ in self.hours[n]:
                hours_of[n, code] = hours_of.get((n, code), 0) + hours
        for s in self.staff:
            for spec, ci, codes, group, _ in s['units']:
                n = self.class_plan[ci][0]
                for code in codes:
                    vlist.append({
                            'teacher': s['employee'].id,
                            'class_': self.classes[ci].id,
                            'subject': self.subjects[code].id,
                            'subgroup': (subgroups[ci, code, group].id
                                if group else None),
                            'hours': Decimal(hours_of[n, code]),
                            'elective': code in ELECTIVES,
                            })
                    self.teaching_meta.append((s, ci, code, group))
        self.teachings = Teaching.create(vlist)
        self.step("teaching assignments", len(self.teachings))

    def create_users(self):
        User = self.get('res.user')
        ModelData = self.get('ir.model.data')
        Student = self.get('school.student')
        Parent = self.get('school.parent')

        def group(name):
            return ModelData.get_id('school_ejournal', 'group_%s' % name)
        password_hash = User.hash_password(self.args.password)
        company = self.company.id
        users = []   # (login, name, role, groups, employee, description)
        staff = self.staff
        zavuch = next(s for s in staff if s['position'] == 'deputy_academic')
        vr = next(s for s in staff if s['position'] == 'deputy_pastoral')
        five_a = next(ci for ci, plan in enumerate(self.class_plan)
            if plan[:2] == (5, 'А'))
        klass = self.class_teacher[five_a]
        class_teachers = {id(s) for s in self.class_teacher.values()}
        uchitel = max((s for s in staff if s['position'] == 'teacher'
                and id(s) not in class_teachers),
            key=lambda s: (len({u[1] for u in s['units']}),
                -staff.index(s)))

        def staff_groups(s):
            if s['position'] == 'director':
                return ['deputy_academic', 'deputy_pastoral'], 'директор'
            if s['position'] == 'deputy_academic':
                return ['deputy_academic', 'teacher'], 'зам. по УВР, учитель'
            if s['position'] == 'deputy_pastoral':
                return ['deputy_pastoral'], 'зам. по ВР'
            if s['position'] == 'administrator':
                return ['school_admin'], 'системный администратор'
            if id(s) in class_teachers:
                ci = next(ci for ci, t in self.class_teacher.items()
                    if t is s)
                return (['class_teacher', 'teacher'],
                    'кл. рук. %s, учитель' % self.classes[ci].name)
            return ['teacher'], 'учитель'

        fixed = [('zavuch', zavuch), ('vr', vr), ('klass', klass),
            ('uchitel', uchitel)]
        fixed_ids = {id(s) for _, s in fixed}
        numbered = [s for s in staff if id(s) not in fixed_ids]
        for login, s in fixed + [('t%02d' % k, s)
                for k, s in enumerate(numbered, 1)]:
            groups, role = staff_groups(s)
            subjects = sorted({self.subjects[c].short_name
                    for u in s['units'] for c in u[2]})
            if subjects:
                role += ' (%s)' % ', '.join(subjects[:4])
            users.append((login, self.full_name(s['person']), role, groups,
                    s['employee'].id))
        parent = self.parents[self.roditel]
        student = self.students[self.uchenik]
        users.append(('roditel', parent.name, 'родитель двоих детей',
                ['parent'], None))
        users.append(('uchenik', student.name,
                'учащийся %s' % self.classes[self.student_class[
                        self.uchenik]].name, ['student'], None))
        created = User.create([{
                    'login': login,
                    'name': name,
                    'password_hash': password_hash,
                    'language': self.lang.id,
                    'companies': [('add', [company])],
                    'company': company,
                    'employees': [('add', [employee])] if employee else [],
                    'employee': employee,
                    'groups': [('add', [group(g) for g in groups])],
                    } for login, name, _, groups, employee in users])
        self.user_of = {employee: user.id for (_, _, _, _, employee), user
            in zip(users, created) if employee}
        self.zavuch_user = created[0].id
        Parent.write([parent], {'user': created[-2].id})
        Student.write([student], {'user': created[-1].id})
        admin, = User.search([('login', '=', 'admin')])
        # The school is configured: no module-configuration wizard at login
        ConfigItem = self.get('ir.module.config_wizard.item')
        ConfigItem.write(ConfigItem.search([('state', '=', 'open')]),
            {'state': 'done'})
        User.write([admin], {
                'name': 'Администратор',
                'language': self.lang.id,
                'companies': [('add', [company])],
                'company': company,
                'groups': [('add', [group('school_admin')])],
                })
        self.logins = [('admin', admin.name, 'системный администратор '
                '(все права)')] + [(u[0], u[1], u[2]) for u in users]
        self.step("users (one password hash shared)", len(created) + 1)

    # --- the journal ---------------------------------------------------
    def create_bells(self):
        Bell = self.get('school.bell')
        Configuration = self.get('school.configuration')
        start = dt.datetime.combine(self.cal.start, LESSONS_START)
        vlist = []
        self.bell_end = {}
        for number in range(1, 8):
            end = start + dt.timedelta(minutes=LESSON_MINUTES)
            vlist.append({'number': number, 'start': start.time(),
                    'end': end.time()})
            self.bell_end[number] = end.time()
            if number <= len(BREAKS):
                start = end + dt.timedelta(minutes=BREAKS[number - 1])
        bells = Bell.create(vlist)
        if not Configuration.get_singleton():
            Configuration.create([{}])
        config = Configuration(1)
        self.weeks = {level.number: config.weeks_for(level)
            for level in self.levels}
        self.step("bell schedule, journal settings", len(bells) + 1)

    def teacher_rooms(self):
        "Each teacher teaches in a room of one's own: rooms never clash"
        home = {id(s): self.classes[ci].room
            for ci, s in self.class_teacher.items()}
        special = {'pe': 'Спортзал', 'tech': 'Мастерская'}
        counters = defaultdict(int)
        number = 10 + len(self.class_plan) + 1   # after the home rooms
        rooms = {}
        for s in self.staff:
            if s['spec'] in special:
                counters[s['spec']] += 1
                rooms[s['employee'].id] = '%s %d' % (
                    special[s['spec']], counters[s['spec']])
            elif id(s) in home:
                rooms[s['employee'].id] = home[id(s)]
            else:
                rooms[s['employee'].id] = 'каб. %d' % number
                number += 1
        return rooms

    def create_timetable(self):
        """One weekly timetable for the year, copied into each study period:
        classes without gaps, the subgroups of a subject side by side, no
        teacher twice at once, a subject once a day when it can"""
        Timetable = self.get('school.timetable')
        rooms = self.teacher_rooms()
        by_class = defaultdict(lambda: defaultdict(list))
        for ti, (s, ci, code, group) in enumerate(self.teaching_meta):
            by_class[ci][code].append(ti)
        # blocks: (class index, teaching indexes at once, code, hours)
        blocks = []
        for ci in sorted(by_class):
            for code, tis in sorted(by_class[ci].items()):
                hours = int(self.teachings[tis[0]].hours)
                if not hours:
                    continue   # a half-hour elective has no weekly lesson
                teachers = [self.teaching_meta[ti][0]['employee'].id
                    for ti in tis]
                if len(set(teachers)) == len(teachers):
                    blocks.append((ci, tis, code, hours))
                else:
                    blocks.extend((ci, [ti], code, hours) for ti in tis)
        block_teachers = [[self.teaching_meta[ti][0]['employee'].id
                for ti in tis] for _, tis, _, _ in blocks]
        load = defaultdict(int)
        total = defaultdict(int)
        for (ci, _, _, hours), teachers in zip(blocks, block_teachers):
            total[ci] += hours
            for t in teachers:
                load[t] += hours
        length = {}
        for ci in sorted(total):
            n = self.class_plan[ci][0]
            if total[ci] > 5 * DAY_MAX[n]:
                raise SystemExit("demo_school: %s has %d hours a week"
                    % (self.classes[ci].name, total[ci]))
            base, extra = divmod(total[ci], 5)
            longer = set(self.rng.sample(range(5), extra))
            length[ci] = [base + (d in longer) for d in range(5)]
        order = sorted(range(len(blocks)), key=lambda b: (
                -max(load[t] for t in block_teachers[b]), -len(
                    block_teachers[b]), -blocks[b][3], b))

        def attempt(rng):
            cls_slot, busy = {}, set()
            slots = defaultdict(list)
            per_day = defaultdict(int)     # (class, code, day): lessons
            missing = 0

            def free(teachers, d, p):
                return not any((t, d, p) in busy for t in teachers)

            def put(b, d, p):
                ci, _, code, _ = blocks[b]
                cls_slot[ci, d, p] = b
                busy.update((t, d, p) for t in block_teachers[b])
                slots[b].append((d, p))
                per_day[ci, code, d] += 1

            def take(b, d, p):
                ci, _, code, _ = blocks[b]
                del cls_slot[ci, d, p]
                busy.difference_update((t, d, p) for t in block_teachers[b])
                slots[b].remove((d, p))
                per_day[ci, code, d] -= 1

            for b in order:
                ci, _, code, hours = blocks[b]
                teachers = block_teachers[b]
                class_slots = [(d, p) for d in range(5)
                    for p in range(1, length[ci][d] + 1)]
                for _ in range(hours):
                    best = None
                    for d, p in class_slots:
                        if (ci, d, p) not in cls_slot and free(
                                teachers, d, p):
                            score = 10 * per_day[ci, code, d] + rng.random()
                            if not best or score < best[0]:
                                best = (score, d, p, None)
                    if not best or best[0] >= 10:
                        # move another lesson of the class out of the way
                        for d, p in class_slots:
                            other = cls_slot.get((ci, d, p))
                            if other is None or not free(teachers, d, p):
                                continue
                            ocode = blocks[other][2]
                            for d2, p2 in class_slots:
                                if ((ci, d2, p2) in cls_slot
                                        or not free(
                                            block_teachers[other], d2, p2)):
                                    continue
                                score = (10 * per_day[ci, code, d]
                                    + 10 * (per_day[ci, ocode, d2]
                                        - (d2 == d))
                                    + 1 + rng.random())
                                if not best or score < best[0]:
                                    best = (score, d, p, (other, d2, p2))
                    if best:
                        _, d, p, move = best
                        if move:
                            other, d2, p2 = move
                            take(other, d, p)
                            put(other, d2, p2)
                        put(b, d, p)
                        continue
                    # a lesson after the class's day, leaving a gap
                    missing += 1
                    extra = [(d, p) for d in range(5)
                        for p in range(length[ci][d] + 1, 8)
                        if (ci, d, p) not in cls_slot
                        and free(teachers, d, p)]
                    if not extra:
                        raise SystemExit("demo_school: no timetable slot "
                            "for %s %s" % (self.classes[ci].name, code))
                    put(b, *min(extra, key=lambda s: (s[1], s[0])))
            return missing, slots

        for tries in range(1, 41):
            missing, slots = attempt(random.Random(self.rng.random()))
            if not missing:
                break
        self.timetable_slots = slots
        vlist = []
        for b in sorted(slots):
            ci, tis, code, hours = blocks[b]
            kind = 'half' if self.class_plan[ci][0] >= 10 else 'quarter'
            for period in self.periods:
                if period.kind != kind:
                    continue
                for d, p in sorted(slots[b]):
                    for ti, teacher in zip(tis, block_teachers[b]):
                        vlist.append({
                                'period': period.id,
                                'teaching': self.teachings[ti].id,
                                'weekday': str(d),
                                'number': p,
                                'room': rooms[teacher],
                                })
        entries = Timetable.create(vlist)
        self.step("timetable (%d lessons a week, %d tries, %d gaps)" % (
                sum(len(s) for s in slots.values()), tries, missing),
            len(entries))

    def create_lessons(self):
        Timetable = self.get('school.timetable')
        count = 0
        for period in self.periods:
            count += len(Timetable.generate_lessons(period))
        self.step("lessons generated from the timetable", count)

    def plan_topics(self, code, n, weekly, required):
        "The topics of a thematic plan: [(topic, hours, kind)]"
        rng = self.rng
        sections = SECTIONS.get(code + '+' if n >= 5 else code) or SECTIONS[
            code]
        sizes = split_sizes(required,
            [rng.uniform(0.7, 1.3) for _ in sections])
        control = code in CONTROL_SUBJECTS and n >= 2
        work = WORKS.get(code)
        # A control work ends every 2-3 weeks of lessons (at least 4)
        every = max(4, float(weekly) * 2.5)
        topics = []
        for section, size in zip(sections, sizes):
            if not size:
                continue
            chunks = [size]
            if control and size >= 3:
                chunks = split_sizes(size, [rng.uniform(0.8, 1.2)
                        for _ in range(max(1, round(size / every)))])
            part = 0
            for c, chunk in enumerate(chunks):
                kinds = ['lesson'] * chunk
                if control and chunk >= 3:
                    kinds[-1] = 'control'
                    if c == len(chunks) - 1 and chunk >= 4:
                        kinds[-2] = 'review'
                elif c == len(chunks) - 1 and chunk >= 3:
                    kinds[-1] = 'review'
                if work and chunk >= 5 and rng.random() < 0.7:
                    kinds[rng.randrange(1, chunk - 2)] = work
                i = 0
                while i < chunk:
                    kind = kinds[i]
                    if kind == 'review':
                        topics.append((TOPIC_PARTS[-1].format(s=section), 1,
                                'lesson'))
                        i += 1
                        continue
                    elif kind != 'lesson':
                        topics.append((WORK_TOPIC[kind].format(s=section),
                                1, kind))
                        i += 1
                        continue
                    hours = 1
                    if (i + 1 < chunk and kinds[i + 1] == 'lesson'
                            and rng.random() < 0.35):
                        hours = 2
                    template = TOPIC_PARTS[part % (len(TOPIC_PARTS) - 1)]
                    if part >= len(TOPIC_PARTS) - 1:
                        template += ' (%d)' % (
                            part // (len(TOPIC_PARTS) - 1) + 1)
                    part += 1
                    topics.append((template.format(s=section), hours, kind))
                    i += hours
        assert sum(h for _, h, _ in topics) == required
        return topics

    def create_plans(self):
        "Approved thematic plans: the curriculum's hours × the study weeks"
        from trytond.transaction import Transaction
        Plan = self.get('school.thematic_plan')
        PlanLine = self.get('school.thematic_plan.line')
        plans = Plan.create([{'teaching': t.id} for t in self.teachings])
        vlist = []
        for plan, (s, ci, code, group) in zip(plans, self.teaching_meta):
            n = self.class_plan[ci][0]
            weekly = sum(Decimal(h) for c, h, elective in self.hours[n]
                if c == code and elective == (code in ELECTIVES))
            required = int(weekly * self.weeks[n])
            for sequence, (topic, hours, kind) in enumerate(
                    self.plan_topics(code, n, weekly, required), 1):
                vlist.append({'plan': plan.id, 'sequence': sequence,
                        'topic': topic, 'hours': hours, 'kind': kind})
        lines = PlanLine.create(vlist)
        # The deputy approves: the module refuses plans of other hours, and
        # plans of the deputy's own teaching, which the administrator
        # approves here (nobody approves their own plan)
        User = self.get('res.user')
        deputy = User(self.zavuch_user)
        admin, = User.search([('login', '=', 'admin')])
        own = {e.id for e in deputy.employees}
        others = [p for p in plans if p.teaching.teacher.id not in own]
        # their teachers submitted them (as the system here)
        Plan.submit(plans)
        with Transaction().set_user(deputy.id):
            Plan.approve(others)
        with Transaction().set_user(admin.id):
            Plan.approve([p for p in plans if p not in others])
        self.step("thematic plans, approved (plans + topics)",
            len(plans) + len(lines))

    def create_control_schedule(self):
        """The internal-control schedule (ВШК) of school_ejournal_reports,
        when activated: each class's first control work of the year, made
        administrative («КА») unless the class forgot (one in eight)"""
        from sql import Null

        from trytond.transaction import Transaction
        try:
            Schedule = self.get('school.control.schedule')
        except KeyError:
            return
        TaskType = self.get('school.task.type')
        Task = self.get('school.lesson.task')
        Lesson = self.get('school.lesson')
        Mark = self.get('school.mark')
        control, = TaskType.search([('code', '=', 'К')])
        admin, = TaskType.search([('code', '=', 'КА')])
        task = Task.__table__()
        lesson = Lesson.__table__()
        mark = Mark.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*task.join(lesson,
                condition=task.lesson == lesson.id).select(
                task.id, lesson.class_, lesson.subject, lesson.date,
                where=(task.type == control.id) & (lesson.subgroup == Null),
                order_by=[lesson.class_, lesson.date, task.id]))
        first = {}
        for task_id, class_, subject, date in cursor:
            if isinstance(date, str):
                date = dt.date.fromisoformat(date)
            first.setdefault(class_, (task_id, subject, date))
        rng = random.Random(self.args.seed + 9)
        vlist, held = [], []
        for class_, (task_id, subject, date) in sorted(first.items()):
            vlist.append({'company': self.company.id, 'class_': class_,
                    'subject': subject, 'date': date,
                    'description': 'Входная контрольная работа'})
            if rng.random() >= 1 / 8:
                held.append(task_id)
        Schedule.create(vlist)
        if held:
            cursor.execute(*task.update([task.type], [admin.id],
                    where=task.id.in_(held)))
            cursor.execute(*mark.update([mark.type], [admin.id],
                    where=mark.task.in_(held)))
        self.step("internal-control schedule (ВШК)", len(vlist))

    def fill_journal(self):
        """Hold the lessons before today as their teachers would: the next
        topic of the plan, homework, tasks, attendance and marks; inserted
        with one SQL statement per batch per class and period"""
        from sql import Column
        from sql.aggregate import Max

        from school_ejournal.mark import points as mark_points
        from trytond import backend
        from trytond.transaction import Transaction
        pool = self.pool
        Lesson = pool.get('school.lesson')
        Line = pool.get('school.lesson.attendance')
        Task = pool.get('school.lesson.task')
        Mark = pool.get('school.mark')
        TaskType = pool.get('school.task.type')
        Enrolment = pool.get('school.enrolment')
        SubgroupStudent = pool.get('school.subgroup-school.student')
        PlanLine = pool.get('school.thematic_plan.line')
        Plan = pool.get('school.thematic_plan')
        ModelData = pool.get('ir.model.data')
        transaction = Transaction()
        database = transaction.database
        cursor = transaction.connection.cursor()
        rng = random.Random(self.rng.random())
        today = self.today

        types = {code: ModelData.get_id('school_ejournal', xml_id)
            for code, xml_id in TASK_TYPES.items()}
        check_days = {code: TaskType(type_id).check_days
            for code, type_id in types.items()}
        meta = {t.id: (m, t) for t, m in zip(self.teachings,
                self.teaching_meta)}

        lesson = Lesson.__table__()
        cursor.execute(*lesson.select(lesson.id, lesson.teaching,
                lesson.date, lesson.number, lesson.period,
                order_by=[lesson.date, lesson.number, lesson.id]))
        lessons = cursor.fetchall()
        # The next day the teaching has a lesson: homework is due then
        next_date, nearest = {}, {}
        for lesson_id, teaching, date, number, period in reversed(lessons):
            later = nearest.get(teaching)
            if later is None:
                next_date[lesson_id] = None
            else:
                next_date[lesson_id] = (
                    later[0] if later[0] > date else later[1])
            if later is None or later[0] > date:
                nearest[teaching] = (date, later[0] if later else None)
        first_number = {}
        for lesson_id, teaching, date, number, period in lessons:
            ci = meta[teaching][0][1]
            first_number.setdefault((ci, date), number)

        enrolment = Enrolment.__table__()
        cursor.execute(*enrolment.select(enrolment.class_, enrolment.student,
                enrolment.start_date, enrolment.end_date))
        enrolled = defaultdict(list)
        for class_id, student, start, end in cursor:
            enrolled[class_id].append((student, start, end or dt.date.max))
        member = SubgroupStudent.__table__()
        cursor.execute(*member.select(member.subgroup, member.student))
        members = defaultdict(set)
        for subgroup, student in cursor:
            members[subgroup].add(student)
        by_day = {}

        def students_of(teaching, date):
            class_id = teaching.class_.id
            key = class_id, date
            if key not in by_day:
                by_day[key] = sorted({s for s, start, end in enrolled[
                            class_id] if start <= date <= end})
            if teaching.subgroup:
                group = members[teaching.subgroup.id]
                return [s for s in by_day[key] if s in group]
            return by_day[key]

        # The topics of each plan, one per lesson in order
        plan_line = PlanLine.__table__()
        plan = Plan.__table__()
        cursor.execute(*plan_line.join(plan,
                condition=plan_line.plan == plan.id).select(
                plan.teaching, plan_line.id, plan_line.topic,
                plan_line.hours, plan_line.kind,
                order_by=[plan.teaching, plan_line.sequence, plan_line.id]))
        topics = defaultdict(list)
        for teaching, line_id, topic, hours, kind in cursor:
            topics[teaching].extend([(line_id, topic, kind)] * hours)
        topics = {t: iter(v) for t, v in topics.items()}

        # Students: a stable ability, a subject bent, a habit of absence
        ability, bent, habit = {}, {}, {}
        for student in self.students:
            ability[student.id] = min(4.95, max(2.7, rng.gauss(3.85, 0.55)))
            habit[student.id] = rng.lognormvariate(0, 0.6)
        # Whole days away: ill (Б) for a few days, excused (УП), absent (Н)
        days = self.school_days(self.cal.start, today - dt.timedelta(days=1))
        away = {}
        for student in self.students:
            k = habit[student.id]
            ill = 0
            for day in days:
                if ill:
                    away[student.id, day] = 'ill'
                    ill -= 1
                elif rng.random() < 0.009 * k:
                    ill = rng.randint(2, 7) - 1
                    away[student.id, day] = 'ill'
                elif rng.random() < 0.007 * k:
                    away[student.id, day] = 'excused'
                elif rng.random() < 0.003 * k:
                    away[student.id, day] = 'absent'

        def mark_value(student, code, control):
            key = student, code
            if key not in bent:
                bent[key] = rng.gauss(0, 0.3)
            value = round(ability[student] + bent[key]
                + rng.gauss(-0.15 if control else 0, 0.7))
            if value <= 2:
                value = 2 if rng.random() < 0.3 else 3
            return str(min(value, 5))

        def local(date, time, minutes=0):
            "A Moscow time as stored: UTC, naive"
            return (dt.datetime.combine(date, time) - MOSCOW
                + dt.timedelta(minutes=minutes))

        def reserve(Model, count):
            if not count:
                return []
            ids = database.nextid(
                transaction.connection, Model._table, count=count)
            if ids is None:
                table = Model.__table__()
                cursor.execute(*table.select(Max(table.id)))
                start = (cursor.fetchone()[0] or 0) + 1
                ids = range(start, start + count)
            elif count == 1:
                ids = [ids]
            return list(ids)

        # Parameters in one statement: SQLite allows 32766, PostgreSQL 65535
        limit = 30000 if backend.name == 'sqlite' else 60000

        def insert(table, names, rows):
            "Insert the rows with one statement per batch"
            columns = [Column(table, n) for n in names]
            size = max(1, limit // len(columns))
            for start in range(0, len(rows), size):
                cursor.execute(*table.insert(columns,
                        [list(r) for r in rows[start:start + size]]))

        update = lesson.update([lesson.state, lesson.plan_line, lesson.topic,
                lesson.homework, lesson.homework_due, lesson.filled_at,
                lesson.filled_by, lesson.write_uid, lesson.write_date],
            ['x'] * 9, where=lesson.id == 0)
        update_sql, update_params = tuple(update)
        assert len(update_params) == 10
        line_table = Line.__table__()
        line_history = Line.__table_history__()
        line_names = ['id', 'create_uid', 'create_date', 'lesson', 'student',
            'attendance']
        task_names = ['id', 'create_uid', 'create_date', 'lesson', 'type',
            'sequence', 'description', 'mark_column']
        mark_names = ['id', 'create_uid', 'create_date', 'task', 'student',
            'value', 'lesson', 'date', 'type', 'late', 'cancelled', 'points',
            'entered_at']

        groups = defaultdict(list)
        for row in lessons:
            if row[2] < today:
                ci = meta[row[1]][0][1]
                groups[row[4], ci].append(row)
        counts = defaultdict(int)
        homework_counter = defaultdict(int)
        for key in sorted(groups, key=lambda k: (
                    min(r[2] for r in groups[k]), k)):
            updates, lines, tasks, marks = [], [], [], []
            for lesson_id, teaching_id, date, number, _ in groups[key]:
                (s, ci, code, group), teaching = meta[teaching_id]
                n = self.class_plan[ci][0]
                user = self.user_of.get(s['employee'].id, 0)
                filled = local(date, self.bell_end.get(number, dt.time(15)),
                    rng.randrange(1, 40))
                line_id, topic, kind = next(topics[teaching_id],
                    (None, None, None))
                # Homework, due at the next lesson of the teaching
                homework = due = None
                hw_kind = HOMEWORK_KIND.get(code)
                if (n > 1 and hw_kind and next_date[lesson_id]
                        and kind != 'control'
                        and rng.random() < (0.2 if hw_kind == 'arts'
                            else 0.85)):
                    k = homework_counter[teaching_id]
                    homework_counter[teaching_id] += 1
                    page = 4 + 2 * k + rng.randrange(2)
                    exercise = 3 + 3 * k + rng.randrange(3)
                    homework = rng.choice(HOMEWORK[hw_kind]).format(
                        n=exercise, n2=exercise + rng.randrange(1, 4),
                        p=1 + k // 2, pg=page, pg2=page + rng.randrange(2, 6),
                        q=rng.choice(['1–3', '1–4', '2–5', '1, 2', '3, 4']))
                    due = next_date[lesson_id]
                # Tasks: a control or practical work, else 1 or 2 of
                # oral answers, homework check, independent work, dictation
                if kind in {'control', 'laboratory', 'practical'}:
                    codes = [{'control': 'К', 'laboratory': 'Л',
                            'practical': 'П'}[kind]]
                else:
                    codes = [rng.choices(['О', 'ДЗ', 'С'], [55, 25, 20])[0]]
                    if rng.random() < 0.45:
                        second = ['О', 'ДЗ', 'С'] + (
                            ['Д', 'Д'] if code in DICTATION_SUBJECTS else [])
                        second = [c for c in second if c != codes[0]]
                        codes.append(rng.choice(second))
                task_ids = []   # indexes in tasks until the ids are known
                for sequence, task_code in enumerate(codes, 1):
                    description = TASK_DESCRIPTIONS.get(task_code)
                    if task_code in {'К', 'Л', 'П'}:
                        description = topic
                    task_ids.append(len(tasks))
                    tasks.append([None, user, filled, lesson_id,
                            types[task_code], sequence, description,
                            sequence if sequence <= 3 else None])
                # Attendance
                students = students_of(teaching, date)
                present = []
                for student in students:
                    status = away.get((student, date))
                    k = habit[student]
                    if status is None:
                        roll = rng.random()
                        if roll < 0.005 * k:
                            status = 'absent'
                        elif (roll < 0.025 * k
                                and number == first_number[ci, date]):
                            status = 'late'
                    lines.append([None, user, filled, lesson_id, student,
                            status])
                    if status in {None, 'late'}:
                        present.append(student)
                counts['students'] += len(students)
                # Marks, entered on the day or, for written work, later
                entered = filled
                if n >= 2 and present:
                    written = codes[0] in {'К', 'Л', 'П'}
                    if written:
                        marked = [[s for s in present
                                if rng.random() < 0.95]]
                    else:
                        share = rng.uniform(0.3, 0.6)
                        chosen = rng.sample(present,
                            max(1, round(share * len(present))))
                        marked = [[] for _ in codes]
                        for student in chosen:
                            i = rng.randrange(len(codes))
                            marked[i].append(student)
                            if len(codes) > 1 and rng.random() < 0.15:
                                marked[1 - i].append(student)
                    for task_id, task_code, students_marked in zip(
                            task_ids, codes, marked):
                        if not students_marked:
                            continue
                        delay = 0
                        if check_days[task_code]:
                            delay = rng.choices([0, 1, 2, 3, 4], {
                                    'К': [15, 30, 30, 15, 10],
                                    'ДЗ': [85, 10, 5, 0, 0],
                                    'С': [50, 25, 15, 10, 0],
                                    }.get(task_code, [40, 30, 20, 10, 0]))[0]
                        delay = min(delay, check_days[task_code])
                        day = date + dt.timedelta(days=delay)
                        if day >= today:
                            continue   # not checked yet
                        at = (local(day, dt.time(15), rng.randrange(360))
                            if delay else filled)
                        entered = max(entered, at)
                        for student in students_marked:
                            value = mark_value(
                                student, code, task_code == 'К')
                            marks.append((None, user, at, task_id, student,
                                    value, lesson_id, date, types[task_code],
                                    bool(delay), False, mark_points(value),
                                    at))
                updates.append(('held', line_id, topic, homework, due,
                        entered, user, user, entered, lesson_id))
            for row, line_id in zip(lines, reserve(Line, len(lines))):
                row[0] = line_id
            task_ids = reserve(Task, len(tasks))
            for row, task_id in zip(tasks, task_ids):
                row[0] = task_id
            mark_ids = reserve(Mark, len(marks))
            marks = [(mark_id, m[1], m[2], task_ids[m[3]]) + m[4:]
                for mark_id, m in zip(mark_ids, marks)]
            cursor.executemany(update_sql, updates)
            insert(line_table, line_names, lines)
            insert(line_history, line_names, lines)
            insert(Task.__table__(), task_names, tasks)
            insert(Mark.__table__(), mark_names, marks)
            counts['lessons'] += len(updates)
            counts['homework'] += sum(1 for u in updates if u[3])
            counts['lines'] += len(lines)
            counts['away'] += sum(1 for r in lines if r[5])
            counts['tasks'] += len(tasks)
            counts['control'] += sum(1 for t in tasks
                if t[4] == types['К'])
            counts['marks'] += len(marks)
            counts['twos'] += sum(1 for m in marks if m[5] == '2')
            counts['late'] += sum(1 for m in marks if m[9])
            counts['marked'] += len({(m[6], m[4]) for m in marks})
            counts['mark_lessons_students'] += sum(
                len(students_of(meta[r[1]][1], r[2])) for r in groups[key]
                if self.class_plan[meta[r[1]][0][1]][0] >= 2)
        self.counts = counts
        self.step("lessons held (topics; homework in %.0f %%)" % (
                100 * counts['homework'] / max(1, counts['lessons'])),
            counts['lessons'])
        self.step("  lesson lines (absences %.1f %%)" % (
                100 * counts['away'] / max(1, counts['lines'])),
            counts['lines'])
        self.step("  tasks (control works: %d)" % counts['control'],
            counts['tasks'])
        self.step("  marks (2s %.1f %%, late %.0f %%, %.0f %% marked)" % (
                100 * counts['twos'] / max(1, counts['marks']),
                100 * counts['late'] / max(1, counts['marks']),
                100 * counts['marked'] / max(
                    1, counts['mark_lessons_students'])),
            counts['marks'])

    def create_family_messages(self):
        """With school_ejournal_messaging activated, what the demo's parent
        and student find in the e-diary: a message of each child's class
        teacher and the information letter of the period, the class's next
        parents' meeting and a class notice"""
        from trytond.transaction import Transaction
        try:
            Thread = self.get('school.message.thread')
        except KeyError:
            return
        Notice = self.get('school.notice')
        Event = self.get('school.class.event')
        Letter = self.get('school.parent.letter')
        Period = self.get('school.period')
        parent = self.parents[self.roditel]
        meeting = min(self.today + dt.timedelta(days=3), self.cal.end)
        count = 0
        done = set()
        for si in sorted(self.reserved):
            ci = self.student_class[si]
            class_, student = self.classes[ci], self.students[si]
            teacher = self.user_of[self.class_teacher[ci]['employee'].id]
            with Transaction().set_user(teacher):
                if si != self.uchenik:
                    Thread.create([{
                                'subject': 'Успеваемость: %s' % (
                                    student.first_name),
                                'kind': 'parent',
                                'parent': parent.id,
                                'student': student.id,
                                'messages': [('create', [{
                                                'body': 'Здравствуйте! '
                                                'Прошу обратить внимание на '
                                                'домашние задания по '
                                                'математике на этой неделе.',
                                                }])],
                                }])
                    count += 1
                    # The information letter of the period under way
                    period = Period.last_started(
                        class_.year, class_.level, self.today)
                    if period:
                        Letter.create([{
                                    'student': student.id,
                                    'period': period.id,
                                    'comment': 'Старается на уроках. '
                                    'Обратите внимание на домашние '
                                    'задания по математике.',
                                    }])
                        count += 1
                if ci in done:
                    continue
                done.add(ci)
                Event.create([{
                            'class_': class_.id,
                            'date': meeting,
                            'title': 'Родительское собрание',
                            'description': 'В 18:00 в кабинете класса: '
                            'итоги четверти и экскурсия.',
                            }])
                Notice.create([{
                            'date': self.today,
                            'title': 'Сменная обувь',
                            'body': 'С понедельника вход в школу только '
                            'в сменной обуви.',
                            'audience': 'class',
                            'class_': class_.id,
                            }])
                count += 2
        self.step("family messages, letters, class events and notices",
            count)

    def run(self):
        self.check_absent()
        print("demo_school: %s, year %s, %d students, %d parallel(s), "
            "seed %d, today %s" % (SCHOOL_NAME, self.cal.name,
                self.args.students, self.args.parallels, self.args.seed,
                self.today), flush=True)
        self.create_company()
        from trytond.transaction import Transaction
        with Transaction().set_context(
                company=self.company.id, companies=[self.company.id]):
            self.create_year()
            self.create_subjects()
            self.plan_classes()
            self.create_staff()
            self.assign_teaching()
            self.create_classes()
            self.create_people()
            self.pick_demo_people()
            self.create_orders()
            self.create_subgroups_and_teaching()
            self.create_users()
            self.create_bells()
            self.create_timetable()
            self.create_lessons()
            self.create_plans()
            self.fill_journal()
            self.create_control_schedule()
            self.create_family_messages()


def main(argv=None):
    args = parse_args(argv)
    if not sys.flags.optimize:
        # trytond's ModelStorage asserts make loading N records O(N²)
        os.environ['PYTHONOPTIMIZE'] = '1'
        os.execv(sys.executable, [sys.executable] + sys.argv)
    from trytond import config
    config.update_etc(args.config)
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    logging.basicConfig(level=logging.WARNING)

    started = time.monotonic()
    pool = Pool(args.database)
    pool.init()
    print("  %-44s        %6.2f s" % (
            "pool loaded", time.monotonic() - started), flush=True)
    # The journal settings are a singleton: creating it locks its table
    with Transaction().start(args.database, 0, context={'language': 'ru'},
            _lock_tables=[pool.get('school.configuration')._table]
            ) as transaction:
        generator = Generator(args, pool)
        generator.step.last = time.monotonic()
        generator.run()
        transaction.commit()
        generator.step("committed")
    from trytond import backend
    if backend.name == 'postgresql':
        # The planner's statistics of the tables just filled, as autovacuum
        # gathers them a while later on a running server
        with Transaction().start(args.database, 0) as transaction:
            transaction.connection.cursor().execute('ANALYZE')
            transaction.commit()
        generator.step("statistics gathered (ANALYZE)")
    print("demo_school: done in %.1f s (%d students, %d parents, %d staff, "
        "%d classes, %d teaching assignments)" % (
            time.monotonic() - started, len(generator.students),
            len(generator.parents), len(generator.employees),
            len(generator.classes), len(generator.teachings)))
    print()
    print("Logins (password for all: %s)" % args.password)
    width = max(len(n) for _, n, _ in generator.logins)
    print('  %-8s  %-*s  %s' % ('login', width, 'name', 'role'))
    for login, name, role in generator.logins:
        print('  %-8s  %-*s  %s' % (login, width, name, role))
    return 0


if __name__ == '__main__':
    sys.exit(main())
