from mixdown.domain.geometry import Rect
from mixdown.domain.parameters import (
    Canvas,
    CustomLayout,
    LayoutParams,
    MixStream,
    StreamLayout,
)
from mixdown.planning.layout import TEMPLATE_BACKGROUND, layout_for


def test_template_one_stacks_four_small_slots_above_the_whiteboard() -> None:
    layout = layout_for(MixStream(enabled=True, model_id=1))
    assert (layout.width, layout.height, layout.background) == (1320, 1224, TEMPLATE_BACKGROUND)
    assert layout.slots[0].rect == Rect(20, 256, 1280, 960)
    assert [s.rect.x for s in layout.slots[2:]] == [8, 336, 664, 992]
    assert {s.rect.y for s in layout.slots[2:]} == {8}
    assert layout.slots[1].z > layout.slots[0].z  # the screen share covers the whiteboard


def test_template_two_puts_the_small_slots_in_a_right_hand_column() -> None:
    layout = layout_for(MixStream(enabled=True, model_id=2))
    assert (layout.width, layout.height) == (1624, 1000)
    assert layout.slots[0].rect == Rect(8, 8, 1280, 960)
    assert [s.rect.y for s in layout.slots[2:]] == [8, 256, 504, 752]
    assert {s.rect.x for s in layout.slots[2:]} == {1296}


def test_custom_layouts_round_odd_sizes_to_even_and_keep_slot_settings() -> None:
    custom = CustomLayout(
        Canvas(641, 481, "#112233"),
        (StreamLayout(LayoutParams(101, 51, 3, 5, 7), "x", "#FF0000", 1),),
    )
    layout = layout_for(MixStream(enabled=True, custom=custom))
    assert (layout.width, layout.height, layout.suffix) == (642, 482, "custom")
    slot = layout.slots[0]
    assert (slot.rect, slot.z, slot.reserved, slot.fill_mode, slot.background) == (
        Rect(2, 4, 102, 52),  # odd positions grow the slot one pixel outward
        7,
        "x",
        1,
        "#FF0000",
    )
