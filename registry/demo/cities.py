"""What the demo cities look like: where they are, what grows there, what their streets are called.

Species mixes follow the greening of each city (Astana: hardy elm, birch, poplar and conifers of
the dry steppe; Almaty: the foothill city's elm, plane, ash, oak and Tian Shan spruce).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CityPlan:
    region_kato: str
    utm_epsg: int
    centre: tuple[float, float]  # lon, lat
    radius_m: float
    plants: int
    streets: tuple[str, ...]
    parks: tuple[str, ...]
    mix: dict[str, float]  # Latin name → weight
    oldest_year: int


ASTANA = CityPlan(
    region_kato="71",
    utm_epsg=32642,
    centre=(71.4304, 51.1282),
    radius_m=7500,
    plants=60_000,
    streets=(
        "проспект Республики",
        "улица Кенесары",
        "проспект Мангилик Ел",
        "улица Сыганак",
        "проспект Туран",
        "проспект Сарыарка",
        "улица Бейбитшилик",
        "проспект Абая",
        "улица Жениса",
        "проспект Кабанбай батыра",
        "улица Иманова",
        "улица Кошкарбаева",
        "улица Сейфуллина",
        "проспект Богенбай батыра",
        "улица Ауэзова",
        "улица Петрова",
    ),
    parks=(
        "Центральный парк",
        "Парк «Жетысу»",
        "Парк «Арай»",
        "Сквер им. Абая",
        "Парк «Ғашықтар»",
        "Парк «Жерұйық»",
        "Бульвар «Нұржол»",
        "Сквер у Байтерека",
        "Парк Победы",
        "Ботанический сад",
        "Парк «Атамекен»",
        "Сквер «Мәңгілік Ел»",
        "Парк Президентский",
        "Сквер «Шаңырақ»",
        "Парк «Көктал»",
    ),
    mix={
        "Ulmus pumila": 22,
        "Betula pendula": 14,
        "Populus balsamifera": 8,
        "Populus bolleana": 6,
        "Pinus sylvestris": 8,
        "Picea obovata": 4,
        "Picea pungens": 3,
        "Fraxinus pennsylvanica": 7,
        "Acer negundo": 7,
        "Salix alba": 4,
        "Sorbus aucuparia": 3,
        "Malus baccata": 3,
        "Syringa vulgaris": 4,
        "Caragana arborescens": 3,
        "Lonicera tatarica": 2,
        "Larix sibirica": 2,
    },
    oldest_year=1965,
)

ALMATY = CityPlan(
    region_kato="75",
    utm_epsg=32643,
    centre=(76.9286, 43.2389),
    radius_m=8000,
    plants=60_000,
    streets=(
        "проспект Абая",
        "проспект Аль-Фараби",
        "проспект Достык",
        "улица Толе би",
        "проспект Сейфуллина",
        "проспект Назарбаева",
        "улица Жандосова",
        "улица Тимирязева",
        "улица Розыбакиева",
        "улица Сатпаева",
        "улица Гоголя",
        "улица Кабанбай батыра",
        "улица Жамбыла",
        "улица Панфилова",
        "улица Богенбай батыра",
        "проспект Райымбека",
    ),
    parks=(
        "Парк 28 гвардейцев-панфиловцев",
        "Центральный парк культуры и отдыха",
        "Ботанический сад",
        "Парк Первого Президента",
        "Сквер у Оперного театра",
        "Парк «Южный»",
        "Парк им. Габдуллина",
        "Терренкур вдоль Есентая",
        "Парк «Ганди»",
        "Сквер «Студенческий»",
        "Парк Победы",
        "Сквер «Қазақ елі»",
        "Парк «Фэмили»",
        "Сквер «Астана»",
        "Парк «Арбат»",
    ),
    mix={
        "Ulmus pumila": 14,
        "Acer platanoides": 8,
        "Fraxinus excelsior": 7,
        "Platanus orientalis": 5,
        "Quercus robur": 6,
        "Populus bolleana": 6,
        "Picea schrenkiana": 6,
        "Pinus sylvestris": 4,
        "Betula pendula": 6,
        "Tilia cordata": 5,
        "Aesculus hippocastanum": 4,
        "Catalpa bignonioides": 3,
        "Juglans regia": 3,
        "Robinia pseudoacacia": 4,
        "Syringa vulgaris": 4,
        "Juniperus virginiana": 3,
        "Acer negundo": 4,
        "Malus sieversii": 2,
    },
    oldest_year=1935,
)

SHYMKENT = CityPlan(
    region_kato="79",
    utm_epsg=32642,
    centre=(69.5901, 42.3155),
    radius_m=5500,
    plants=15_000,
    streets=(
        "проспект Тауке хана",
        "улица Байтурсынова",
        "проспект Кунаева",
        "проспект Республики",
        "улица Жибек жолы",
        "проспект Абая",
        "улица Толе би",
        "проспект Мадели кожа",
    ),
    parks=(
        "Парк «Кен Баба»",
        "Дендропарк",
        "Парк Независимости",
        "Парк Абая",
        "Сквер «Ордабасы»",
        "Парк Победы",
    ),
    mix={
        "Ulmus pumila": 20,
        "Platanus orientalis": 8,
        "Morus alba": 8,
        "Robinia pseudoacacia": 8,
        "Elaeagnus angustifolia": 6,
        "Fraxinus sogdiana": 6,
        "Populus bolleana": 8,
        "Catalpa bignonioides": 5,
        "Gleditsia triacanthos": 5,
        "Juniperus virginiana": 4,
        "Celtis caucasica": 4,
        "Tamarix ramosissima": 3,
    },
    oldest_year=1950,
)

CITIES = (ASTANA, ALMATY, SHYMKENT)
