"""The output-size rule of section 7.2: OH = (H + 2P - FH) / S + 1."""

from __future__ import annotations

import pytest

from app.engine.shapes import OutputLength, ShapeError, conv_output_length, conv_output_shape


def test_padding_1_turns_a_4x4_input_and_a_3x3_filter_into_a_4x4_output():
    assert conv_output_shape(4, 4, 3, 3, pad=1, stride=1) == (4, 4)


def test_without_padding_a_4x4_input_and_a_3x3_filter_give_a_2x2_output():
    assert conv_output_shape(4, 4, 3, 3, pad=0, stride=1) == (2, 2)


def test_stride_2_turns_a_7x7_input_and_a_3x3_filter_into_a_3x3_output():
    assert conv_output_shape(7, 7, 3, 3, pad=0, stride=2) == (3, 3)


def test_the_books_example_3_28x31_input_pad_2_stride_3_filter_5x5_gives_10x11():
    # Example 3 of section 7.2.4: (28 + 4 - 5)/3 + 1 = 10, (31 + 4 - 5)/3 + 1 = 11
    assert conv_output_shape(28, 31, 5, 5, pad=2, stride=3) == (10, 11)


def test_simple_convnet_shapes_28_to_24_by_the_5x5_conv_and_24_to_12_by_the_2x2_pool():
    assert conv_output_shape(28, 28, 5, 5) == (24, 24)
    assert conv_output_shape(24, 24, 2, 2, pad=0, stride=2) == (12, 12)


def test_a_filter_as_large_as_the_input_gives_a_single_output_pixel():
    assert conv_output_length(5, 5, pad=0, stride=3) == OutputLength(1, True)


@pytest.mark.parametrize(
    ("h", "fh", "pad", "stride", "size"),
    [(4, 3, 1, 1, 4), (7, 3, 0, 2, 3), (28, 5, 0, 1, 24), (6, 2, 0, 2, 3), (1, 1, 0, 1, 1)],
)
def test_divisible_cases_are_exact(h, fh, pad, stride, size):
    result = conv_output_length(h, fh, pad, stride)
    assert result == OutputLength(size, True)
    assert result.size == (h + 2 * pad - fh) // stride + 1


@pytest.mark.parametrize(
    ("h", "fh", "pad", "stride", "floor"),
    [(6, 3, 0, 2, 2), (5, 2, 0, 2, 2), (10, 3, 1, 4, 3), (8, 5, 0, 2, 2)],
)
def test_when_h_plus_2p_minus_fh_is_not_divisible_by_s_the_floor_is_returned_and_flagged(
    h, fh, pad, stride, floor
):
    # e.g. 6x6 input, 3x3 filter, stride 2: (6 - 3)/2 + 1 = 2.5 -> 2, the last column dropped
    result = conv_output_length(h, fh, pad, stride)
    assert result.size == floor
    assert result.exact is False


def test_height_and_width_are_computed_independently():
    assert conv_output_shape(6, 7, 3, 2, pad=0, stride=1) == (4, 6)
    assert conv_output_shape(9, 5, 3, 3, pad=0, stride=2) == (4, 2)


def test_a_filter_larger_than_the_padded_input_is_refused_and_the_message_names_it():
    with pytest.raises(ShapeError) as err:
        conv_output_length(4, 7, pad=1, stride=1)
    message = str(err.value)
    assert "FH=7" in message
    assert "6" in message  # the padded input H + 2P = 4 + 2


def test_the_width_axis_is_named_in_its_own_error():
    with pytest.raises(ShapeError, match="FW=9"):
        conv_output_shape(28, 4, 5, 9)


def test_stride_0_is_refused_and_the_message_names_the_stride():
    with pytest.raises(ShapeError) as err:
        conv_output_length(28, 5, pad=0, stride=0)
    assert "stride" in str(err.value)
    assert "0" in str(err.value)


def test_a_negative_pad_is_refused_and_the_message_names_the_pad():
    with pytest.raises(ShapeError) as err:
        conv_output_length(28, 5, pad=-1, stride=1)
    assert "pad" in str(err.value)
    assert "-1" in str(err.value)


@pytest.mark.parametrize("h", [0, -3])
def test_an_input_smaller_than_one_pixel_is_refused_and_the_message_names_h(h):
    with pytest.raises(ShapeError) as err:
        conv_output_length(h, 3, pad=0, stride=1)
    assert "H" in str(err.value)
    assert str(h) in str(err.value)


def test_a_zero_sized_filter_is_refused():
    with pytest.raises(ShapeError, match="FH"):
        conv_output_length(5, 0, pad=0, stride=1)


def test_shape_error_is_a_value_error_so_callers_can_catch_either():
    assert issubclass(ShapeError, ValueError)
