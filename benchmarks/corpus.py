"""Deterministic English prose for the benchmarks (no downloads, ASCII so it fits the PDF font).

Twelve topics, each with its own nouns, verbs, adjectives, places and people, poured into
sentence templates: the text reads like plain expository prose, the vocabulary differs by
topic (so keyword search and embeddings have something to tell apart), and the same seed
always gives the same text.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Topic:
    name: str
    nouns: tuple[str, ...]  # plural noun phrases
    verbs: tuple[str, ...]  # plural present tense
    adjectives: tuple[str, ...]
    places: tuple[str, ...]
    people: tuple[str, ...]


_TABLE = """
beekeeping
  nouns: worker bees, queen cells, honey frames, varroa mites, wax combs, drone brood,
         pollen stores, winter clusters, hive entrances, nectar flows
  verbs: protect, feed on, weaken, cover, depend on, warm, abandon, replace
  adjectives: healthy, crowded, swarming, dormant, sticky, late-season
  places: apiaries in the valley, mountain orchards, town gardens
  people: beekeepers, apiarists
soil
  nouns: clay soils, earthworms, cover crops, nitrogen levels, root systems, compost heaps,
         drainage ditches, topsoil layers, crop rotations, fungal networks
  verbs: enrich, compact, absorb, break down, shelter, drain, bind, deplete
  adjectives: fertile, waterlogged, acidic, sandy, organic, eroded
  places: river plains, hill farms, market gardens
  people: farmers, agronomists
bridges
  nouns: steel girders, suspension cables, concrete piers, expansion joints, load tests,
         wind loads, truss designs, bearing plates, deck slabs, rivet lines
  verbs: carry, support, stiffen, corrode, transfer, resist, crack under, brace
  adjectives: rigid, slender, cantilevered, prestressed, fatigued, riveted
  places: estuary crossings, railway viaducts, city river crossings
  people: engineers, inspectors
trade
  nouns: wool merchants, spice caravans, guild charters, toll stations, silver coins,
         grain ships, market fairs, letters of credit, salt roads, harbour fees
  verbs: finance, tax, protect, carry, undercut, regulate, bypass, enrich
  adjectives: medieval, lucrative, seasonal, chartered, risky, foreign
  places: Hanseatic ports, Alpine passes, inland market towns
  people: historians, chroniclers
astronomy
  nouns: variable stars, orbital periods, telescope mirrors, spectral lines, comet tails,
         lunar craters, parallax shifts, star catalogues, solar flares, planetary rings
  verbs: reveal, obscure, brighten, distort, reflect, outshine, trace, map
  adjectives: faint, distant, eclipsing, infrared, periodic, reddened
  places: high desert observatories, southern sky surveys, amateur backyards
  people: astronomers, observers
coasts
  nouns: salt marshes, tidal pools, sea walls, dune grasses, mussel beds, storm surges,
         mangrove roots, shingle banks, seabird colonies, kelp forests
  verbs: shelter, erode, trap, flood, stabilise, feed, overwhelm, rebuild
  adjectives: brackish, exposed, shifting, intertidal, fragile, windswept
  places: northern estuaries, rocky headlands, barrier islands
  people: ecologists, wardens
baking
  nouns: sourdough starters, wheat flours, bread crusts, proofing baskets, wood ovens,
         rye loaves, gluten strands, steam trays, yeast cultures, dough folds
  verbs: leaven, strengthen, soften, brown, ferment, lift, dry out, flavour
  adjectives: crusty, wholegrain, sour, airy, dense, overproofed
  places: village bakeries, monastery kitchens, city bakehouses
  people: bakers, millers
railways
  nouns: steam locomotives, signal boxes, branch lines, goods yards, timetables,
         gauge changes, level crossings, coal tenders, station clocks, sleeper cars
  verbs: connect, delay, haul, replace, schedule, serve, electrify, close
  adjectives: narrow-gauge, Victorian, rural, express, disused, electrified
  places: mining districts, coastal resorts, mountain passes
  people: railway historians, signalmen
immunity
  nouns: white blood cells, antibodies, lymph nodes, vaccine doses, fever responses,
         memory cells, inflammatory signals, gut bacteria, skin barriers, antigen fragments
  verbs: recognise, neutralise, trigger, suppress, remember, attack, regulate, signal
  adjectives: adaptive, innate, chronic, protective, overactive, specific
  places: hospital wards, research clinics, rural health posts
  people: immunologists, physicians
volcanoes
  nouns: lava flows, magma chambers, ash clouds, pyroclastic surges, fumaroles, crater lakes,
         basalt columns, seismic swarms, gas plumes, obsidian fields
  verbs: bury, feed, release, warn of, harden into, collapse into, heat, reshape
  adjectives: molten, dormant, explosive, sulphurous, glassy, fissure-fed
  places: island arcs, rift valleys, volcanic highlands
  people: volcanologists, geologists
printing
  nouns: movable type, printing presses, paper mills, ink recipes, type foundries,
         woodcut illustrations, book bindings, serif faces, proof sheets, page layouts
  verbs: spread, set, cast, bind, illustrate, standardise, cheapen, preserve
  adjectives: early, illuminated, cheap, blackletter, hand-set, durable
  places: university towns, merchant cities, monastery workshops
  people: printers, typographers
glaciers
  nouns: ice sheets, meltwater streams, moraine ridges, crevasse fields, snow lines, ice cores,
         calving fronts, glacial lakes, permafrost layers, sea levels
  verbs: carve, retreat from, record, feed, raise, deposit, fracture, insulate
  adjectives: polar, retreating, ancient, seasonal, frozen, unstable
  places: Greenland fjords, Himalayan valleys, Antarctic shelves
  people: glaciologists, climbers
"""


def _parse(table: str) -> tuple[Topic, ...]:
    """Topics from `_TABLE`: a name line, then indented `field: a, b, c` (may run on)."""
    topics = []
    for block in re.split(r"\n(?=\S)", table.strip()):
        name, body = block.split("\n", 1)
        parts = re.split(r"\s*(\w+):", body)[1:]  # [field, values, field, values, ...]
        fields = {key: _items(values) for key, values in zip(parts[::2], parts[1::2], strict=True)}
        topics.append(Topic(name.strip(), **fields))
    return tuple(topics)


def _items(values: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in values.split(",") if v.strip())


TOPICS = _parse(_TABLE)

_SENTENCES = (
    "{People} have long noted that {adj} {n1} {v} {n2}, although the records are uneven.",
    "In {place}, {n1} often {v} {n2} long before anyone notices the change.",
    "The {adj} character of {n1} explains why {n2} {v} {n3} so reliably.",
    "When {n1} {v} {n2}, the result is usually {adj} and easy to measure.",
    "Records from {place} show that {n1} rarely {v} {n2} during the colder months.",
    "Most {people} agree that {n1} and {n2} belong together in any careful account.",
    "A second point concerns {n1}: without them, {n2} would quickly become {adj}.",
    "It is tempting to think that {n1} simply {v} {n2}, but the truth is more subtle.",
    "Over several decades, {adj} {n1} came to {v} {n2} across {place}.",
    "{People} in {place} still debate whether {n1} {v} {n2} or merely accompany them.",
    "The first sign of trouble is usually that {n1} stop doing their work and {n2} turn {adj}.",
    "Careful observation of {n1} over a full year tells {people} more than any single visit.",
    "Because {n1} {v} {n2}, the {adj} conditions of one season shape the next.",
    "Few {people} outside {place} appreciate how much {n1} depend on {n2}.",
)

_QUESTIONS = (
    "How do {n1} {v} {n2}?",
    "Why do {adj} {n1} {v} {n2}?",
    "What do {people} in {place} say about {n1}?",
    "What happens to {n2} when {n1} become {adj}?",
    "How do {people} keep track of {n1} over a year?",
    "Do {n1} really {v} {n2}?",
    "Which conditions make {n1} {adj}?",
    "What role do {n1} play for {n2} in {place}?",
)


def _fill(template: str, topic: Topic, rng: random.Random) -> str:
    n1, n2, n3 = rng.sample(topic.nouns, 3)
    text = template.format(
        n1=n1,
        n2=n2,
        n3=n3,
        v=rng.choice(topic.verbs),
        adj=rng.choice(topic.adjectives),
        place=rng.choice(topic.places),
        people=rng.choice(topic.people),
        People=rng.choice(topic.people).capitalize(),
    )
    return text[0].upper() + text[1:]


def sentence(topic: Topic, rng: random.Random) -> str:
    return _fill(rng.choice(_SENTENCES), topic, rng)


def question(topic: Topic, rng: random.Random) -> str:
    return _fill(rng.choice(_QUESTIONS), topic, rng)


def paragraph(topic: Topic, rng: random.Random) -> str:
    return " ".join(sentence(topic, rng) for _ in range(rng.randint(4, 7)))


def page(number: int, rng: random.Random, chars: int = 2500) -> str:
    """One page of a book: a heading and paragraphs (about `chars` characters)."""
    topic = TOPICS[(number // 10) % len(TOPICS)]  # a chapter is ten pages on one topic
    parts = [f"{number + 1}. Notes on {topic.name}"]
    while sum(len(p) + 2 for p in parts) < chars - 300:
        parts.append(paragraph(topic, rng))
    return "\n\n".join(parts)


def book(pages: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    return [page(n, rng) for n in range(pages)]
