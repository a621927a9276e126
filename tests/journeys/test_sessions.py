import numpy as np
import pandas as pd
import pytest

from personapulse.journeys import (
    ChannelRule,
    referrer_host,
    session_channels,
    sessionize,
)

from ._helpers import make_events, page, track


def sessions_of(frame: pd.DataFrame, **kwargs) -> list[int]:
    result = sessionize(frame, **kwargs)
    return result["session_index"].tolist()


def test_gap_of_exactly_30_minutes_stays_in_the_session():
    events = make_events([page("a", 0, "/"), page("a", 30, "/pricing"), page("a", 60, "/cart")])
    assert sessions_of(events) == [1, 1, 1]


def test_gap_just_over_30_minutes_starts_a_new_session():
    events = make_events([page("a", 0, "/"), page("a", 30 + 1 / 60_000, "/pricing")])
    assert sessions_of(events) == [1, 2]


def test_custom_gap():
    events = make_events([page("a", 0, "/"), page("a", 10, "/pricing"), page("a", 16, "/cart")])
    assert sessions_of(events, gap_minutes=5) == [1, 2, 3]
    assert sessions_of(events, gap_minutes=8) == [1, 2, 2]
    assert sessions_of(events, gap_minutes=10) == [1, 1, 1]


def test_sessions_are_per_person_even_when_interleaved():
    events = make_events(
        [page("a", 0, "/"), page("b", 1, "/"), page("a", 2, "/x"), page("b", 50, "/y")]
    )
    result = sessionize(events)
    assert result["session_index"].tolist() == [1, 1, 1, 2]
    keys = result["session_key"].tolist()
    assert keys[0] == keys[2]
    assert len({keys[0], keys[1], keys[3]}) == 3


def test_unsorted_input_keeps_rows_and_index_and_gets_event_order():
    events = make_events([page("a", 40, "/late"), page("a", 0, "/early"), page("b", 5, "/")])
    events.index = [10, 20, 30]
    before = events.copy()
    result = sessionize(events)
    pd.testing.assert_frame_equal(events, before)  # input not mutated
    assert result.index.tolist() == [10, 20, 30]
    assert result["page_path"].tolist() == ["/late", "/early", "/"]
    assert result["session_index"].tolist() == [2, 1, 1]
    assert result["event_order"].tolist() == [1, 0, 2]


def test_equal_timestamps_keep_input_order():
    events = make_events([page("a", 0, "/second"), page("a", 0, "/first")])
    result = sessionize(events)
    assert result["event_order"].tolist() == [0, 1]


def test_split_on_source_session_id():
    events = make_events(
        [
            page("a", 0, "/", session_id="s1"),
            page("a", 1, "/x", session_id="s2"),
            page("a", 2, "/y", session_id=None),
        ]
    )
    assert sessions_of(events) == [1, 1, 1]
    assert sessions_of(events, split_on_source_session=True) == [1, 2, 2]


def test_missing_columns_are_named():
    with pytest.raises(ValueError, match="timestamp"):
        sessionize(pd.DataFrame({"person_id": ["a"]}))


def channel_for(referrer=None, utm_source=None, utm_medium=None, **kwargs) -> str:
    events = make_events(
        [page("a", 0, "/", referrer=referrer, utm_source=utm_source, utm_medium=utm_medium)]
    )
    return session_channels(sessionize(events), **kwargs)["channel"].iloc[0]


@pytest.mark.parametrize(
    ("referrer", "utm_source", "utm_medium", "expected"),
    [
        (None, "google", "cpc", "paid_ads"),
        (None, "bing", "ppc", "paid_ads"),
        ("https://facebook.com/", "facebook", "paid_social", "paid_ads"),
        (None, "criteo", "display", "paid_ads"),
        ("https://www.google.com/search?q=meal+kit", None, None, "search"),
        ("https://www.google.co.uk/", None, None, "search"),
        ("https://www.bing.com/search", None, None, "search"),
        ("https://duckduckgo.com/", None, None, "search"),
        ("https://search.yahoo.com/search", None, None, "search"),
        ("https://www.ecosia.org/search", None, None, "search"),
        (None, "google", "organic", "search"),
        (None, "newsletter", "email", "email"),
        ("https://mail.google.com/mail/u/0", None, None, "email"),
        ("https://www.tiktok.com/@brightcart", None, None, "social_tiktok"),
        ("https://l.instagram.com/", None, None, "social_instagram"),
        ("https://youtu.be/abc", None, None, "social_youtube"),
        ("https://m.facebook.com/", None, None, "social_facebook"),
        ("https://lnkd.in/xyz", None, None, "social_linkedin"),
        ("https://x.com/brightcart", None, None, "social_x"),
        ("https://twitter.com/brightcart", None, None, "social_x"),
        ("https://t.co/abc", None, None, "social_x"),
        (None, "twitter", "social", "social_x"),
        ("https://wa.me/4412345", None, None, "whatsapp"),
        (None, "whatsapp", "share", "whatsapp"),
        ("https://t.me/brightcart", None, None, "messaging"),
        ("https://m.me/brightcart", None, None, "messaging"),
        ("https://www.trustpilot.com/review/brightcart.com", None, None, "review_sites"),
        ("https://www.g2.com/products/brightcart", None, None, "review_sites"),
        ("https://www.capterra.com/p/1/brightcart", None, None, "review_sites"),
        ("https://www.yelp.com/biz/brightcart", None, None, "review_sites"),
        ("https://www.google.com/maps/place/Brightcart", None, None, "review_sites"),
        (None, "trustpilot", None, "review_sites"),
        ("https://blog.example.org/best-meal-kits", None, None, "referral"),
        (None, None, None, "direct"),
        (None, "partner", "affiliate", "other_campaign"),
    ],
)
def test_default_channel_rules(referrer, utm_source, utm_medium, expected):
    assert channel_for(referrer, utm_source, utm_medium) == expected


def test_channel_comes_from_the_first_event_of_the_session():
    events = make_events(
        [page("a", 0, "/"), page("a", 1, "/deals", utm_source="google", utm_medium="cpc")]
    )
    channels = session_channels(sessionize(events))
    assert channels["channel"].tolist() == ["direct"]
    assert channels["n_events"].tolist() == [2]


def test_internal_referrer_counts_as_direct():
    referrer = "https://www.brightcart.com/recipes"
    assert channel_for(referrer) == "referral"
    assert channel_for(referrer, internal_hosts=["brightcart.com"]) == "direct"
    assert (
        channel_for("https://shop.brightcart.com/", internal_hosts=["brightcart.com"]) == "direct"
    )


def test_rules_are_configurable_data():
    rules = [
        {"channel": "partners", "match": {"utm_source": "^acme$"}},
        ChannelRule("podcasts", {"utm_medium": "^audio$", "utm_source": "^(spotify|apple)$"}),
    ]
    assert channel_for(utm_source="ACME", rules=rules) == "partners"
    assert channel_for(utm_source="spotify", utm_medium="audio", rules=rules) == "podcasts"
    # every field of a rule must match
    assert channel_for(utm_source="spotify", utm_medium="video", rules=rules) == "direct"
    assert channel_for("https://www.google.com/", rules=rules, default_channel="none") == "none"


def test_rule_validation():
    with pytest.raises(ValueError, match="unknown channel rule field"):
        ChannelRule("x", {"utm_sauce": "a"})
    with pytest.raises(ValueError, match="at least one field"):
        ChannelRule("x", {})


def test_session_rows_start_end_and_keys():
    events = make_events(
        [
            page("a", 0, "/", referrer="https://www.google.com/"),
            track("a", 5, "Product Viewed"),
            page("a", 120, "/cart"),
            page("b", 3, "/deals", utm_source="google", utm_medium="cpc"),
        ]
    )
    with_sessions = sessionize(events)
    channels = session_channels(with_sessions)
    assert channels["person_id"].tolist() == ["a", "a", "b"]
    assert channels["session_index"].tolist() == [1, 2, 1]
    assert channels["channel"].tolist() == ["search", "direct", "paid_ads"]
    assert channels["landing_page"].tolist() == ["/", "/cart", "/deals"]
    assert channels["n_events"].tolist() == [2, 1, 1]
    assert (channels["end"] - channels["start"]).tolist() == [
        pd.Timedelta(minutes=5),
        pd.Timedelta(0),
        pd.Timedelta(0),
    ]
    assert np.unique(channels["session_key"]).size == 3


def test_referrer_host():
    assert referrer_host("https://www.Google.com/search?q=x") == "google.com"
    assert referrer_host("android-app://com.google.android.gm/") == "com.google.android.gm"
    assert referrer_host("t.co/abc") == "t.co"
    assert referrer_host(None) == ""
