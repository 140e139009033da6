# Copyright: Arrkestra engineers
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The links of the media stack, derived from its apps."""

from __future__ import annotations

import pytest

from ansible_collections.arrkestra.homelab.plugins.plugin_utils import links as link_model


def app(name, kind=None, port=80, **wiring):
    kind = kind or name.split("-")[0]
    entry = {"name": name, "kind": kind, "url": "http://%s.media.svc.cluster.local:%d" % (name, port)}
    if wiring:
        entry["wiring"] = wiring
    return entry


STACK = [app("prowlarr", port=9696), app("radarr", port=7878), app("radarr-4k", port=7878),
         app("sonarr", port=8989), app("qbittorrent", port=8080), app("sabnzbd", port=8080),
         app("flaresolverr", port=8191), app("jellyfin", port=8096), app("seerr", port=5055),
         app("bazarr", port=6767)]


def by_id(links):
    return dict((link["id"], link) for link in links)


def test_every_arr_instance_gets_each_download_client_with_its_own_category():
    links = by_id(link_model.derive(STACK))
    for arr in ("radarr", "radarr-4k", "sonarr"):
        qbit = links["%s/download_clients/qbittorrent" % arr]
        assert qbit["item"]["category"] == arr
        assert qbit["item"]["host"] == "qbittorrent.media.svc.cluster.local"
        assert qbit["item"]["port"] == 8080 and qbit["item"]["implementation"] == "QBittorrent"
        assert qbit["secrets"] == {"username": ["qbittorrent", "username"], "password": ["qbittorrent", "password"]}
        sab = links["%s/download_clients/sabnzbd" % arr]
        assert sab["secrets"] == {"client_api_key": ["sabnzbd", "api_key"]}
        assert links["qbittorrent/categories/%s" % arr]["item"] == {"name": arr, "save_path": "/data/torrents/" + arr}
        assert links["sabnzbd/categories/%s" % arr]["item"] == {"name": arr, "dir": "/data/usenet/" + arr}


def test_root_folders_sit_on_the_shared_media_tree_one_per_instance():
    links = by_id(link_model.derive(STACK))
    assert links["radarr/root_folders//data/media/movies"]["item"] == {"path": "/data/media/movies"}
    assert links["radarr-4k/root_folders//data/media/movies-4k"]["item"] == {"path": "/data/media/movies-4k"}
    assert links["sonarr/root_folders//data/media/tv"]["item"] == {"path": "/data/media/tv"}
    moved = by_id(link_model.derive([app("radarr", root_folder="/srv/films")], {"media_root": "/x"}))
    assert "radarr/root_folders//srv/films" in moved


def test_prowlarr_syncs_every_arr_instance_with_in_cluster_urls_on_both_sides():
    links = by_id(link_model.derive(STACK))
    four_k = links["prowlarr/applications/radarr-4k"]
    assert four_k["item"]["base_url"] == "http://radarr-4k.media.svc.cluster.local:7878"
    assert four_k["item"]["prowlarr_url"] == "http://prowlarr.media.svc.cluster.local:9696"
    assert four_k["item"]["sync_level"] == "full_sync" and four_k["item"]["implementation"] == "Radarr"
    assert 2000 in four_k["item"]["sync_categories"]
    assert four_k["secrets"] == {"app_api_key": ["radarr-4k", "api_key"]}
    assert links["prowlarr/applications/sonarr"]["item"]["implementation"] == "Sonarr"
    proxy = links["prowlarr/indexer_proxies/flaresolverr"]["item"]
    assert proxy["host"] == "http://flaresolverr.media.svc.cluster.local:8191/" and proxy["tags"] == ["flaresolverr"]
    assert links["prowlarr/tags/flaresolverr"]["item"] == {"label": "flaresolverr"}


def test_jellyfin_libraries_one_per_media_type_with_every_instance_path():
    links = by_id(link_model.derive(STACK))
    movies = links["jellyfin/libraries/Movies"]["item"]
    assert movies == {"name": "Movies", "collection_type": "movies",
                      "paths": ["/data/media/movies", "/data/media/movies-4k"]}
    assert "jellyfin/libraries/Music" not in links
    assert links["jellyfin/startup/wizard"]["secrets"]["admin_password"] == ["jellyfin", "password"]


def test_seerr_flags_4k_instances_and_picks_one_default_per_kind_and_resolution():
    links = by_id(link_model.derive(STACK))
    radarr, four_k = links["seerr/services/radarr/radarr"]["item"], links["seerr/services/radarr/radarr-4k"]["item"]
    assert (radarr["is_4k"], radarr["is_default"]) == (False, True)
    assert (four_k["is_4k"], four_k["is_default"]) == (True, True)
    assert links["seerr/setup/jellyfin"]["item"]["libraries"] == ["Movies", "Shows"]
    second = by_id(link_model.derive(STACK + [app("radarr-anime", kind="radarr", port=7878)]))
    assert second["seerr/services/radarr/radarr-anime"]["item"]["is_default"] is False


def test_bazarr_talks_to_the_first_non_4k_instance():
    links = by_id(link_model.derive(STACK))
    assert links["bazarr/connections/radarr"]["to"] == "radarr"
    assert links["bazarr/connections/sonarr"]["item"]["host"] == "sonarr.media.svc.cluster.local"


def test_every_arr_instance_tells_the_media_server_about_each_import():
    stack = STACK + [app("lidarr", port=8686)]
    links = by_id(link_model.derive(stack))
    for arr in ("radarr", "radarr-4k", "sonarr", "lidarr"):
        link = links["%s/notifications/jellyfin" % arr]
        assert link["to"] == "jellyfin" and link["prune"]
        assert link["secrets"] == {"server_api_key": ["jellyfin", "api_key"]}
        item = link["item"]
        assert (item["implementation"], item["host"], item["port"]) == (
            "MediaBrowser", "jellyfin.media.svc.cluster.local", 8096)
        assert item["update_library"] and not item["notify"] and not item["use_ssl"]
    assert "release_import" in links["lidarr/notifications/jellyfin"]["item"]["events"]
    assert "movie_file_delete" in links["radarr/notifications/jellyfin"]["item"]["events"]
    # Jellyfin's NetworkPolicy then lets every arr instance in (the callers come from the links)
    assert not [link for link in link_model.derive([a for a in STACK if a["kind"] != "jellyfin"])
                if link["group"] == "notifications"]


def test_a_removed_media_server_takes_its_notifications_with_it():
    before = link_model.derive(STACK)
    without = [a for a in STACK if a["kind"] != "jellyfin"]
    calls = link_model.plan(without, link_model.derive(without), link_model.record(before))
    assert calls["radarr"]["notifications"] == [{"name": "jellyfin", "state": "absent"}]


def test_links_are_ordered_download_clients_before_the_apps_that_test_them():
    ids = [link["id"] for link in link_model.derive(STACK)]
    assert ids.index("qbittorrent/categories/radarr") < ids.index("radarr/download_clients/qbittorrent")
    assert ids.index("radarr/download_clients/qbittorrent") < ids.index("prowlarr/applications/radarr")
    # Jellyfin makes its key before the arr apps' notifications carry it
    assert ids.index("jellyfin/api_keys/arrkestra") < ids.index("radarr/notifications/jellyfin")


def test_no_secret_value_is_ever_in_a_link():
    stack = [dict(a, api_key="s3cr3t") for a in STACK]
    assert "s3cr3t" not in repr(link_model.derive(stack))


def test_users_switch_links_off_and_add_their_own():
    links = by_id(link_model.derive(STACK, {
        "disabled": ["radarr-4k/download_clients", "bazarr/connections/sonarr"],
        "extra": [{"app": "radarr", "group": "tags", "item": {"label": "kids"}}]}))
    assert "radarr-4k/download_clients/qbittorrent" not in links and "radarr-4k/download_clients/sabnzbd" not in links
    assert "bazarr/connections/sonarr" not in links and "bazarr/connections/radarr" in links
    assert links["radarr/tags/kids"]["item"] == {"label": "kids"}
    assert "radarr-4k/download_clients/qbittorrent" not in by_id(
        link_model.derive([a if a["name"] != "radarr-4k" else dict(a, wiring={"enabled": False}) for a in STACK]))


@pytest.mark.parametrize("apps, settings, message", [
    ([app("radarr"), app("radarr")], None, "two apps are named 'radarr'"),
    ([{"name": "radarr", "kind": "radarr"}], None, "has no 'url'"),
    ([dict(app("radarr"), url="radarr:7878")], None, "is not a URL with a host"),
    ([app("radarr", colour="red")], None, "unknown wiring option(s) colour"),
    ([app("radarr")], {"disabled": ["radarr/download_clients/nzbget"]}, "names links that do not exist"),
    ([app("radarr")], {"extra": [{"app": "sonarr", "group": "tags", "item": {"label": "x"}}]}, "no app is named 'sonarr'"),
    ([app("radarr")], {"extra": [{"app": "radarr"}]}, "no group, item"),
])
def test_bad_input_says_what_to_fix(apps, settings, message):
    with pytest.raises(link_model.LinkError) as err:
        link_model.derive(apps, settings)
    assert message in str(err.value)


def test_plan_groups_by_app_and_deletes_only_what_the_last_run_made_and_is_gone():
    before = link_model.derive(STACK)
    record = link_model.record(before)
    without_sonarr = [a for a in STACK if a["name"] != "sonarr"]
    after = link_model.derive(without_sonarr)
    calls = link_model.plan(without_sonarr, after, record)
    assert "sonarr" not in calls   # the app is gone with its data: nothing to call
    gone = [i for i in calls["prowlarr"]["applications"] if i["state"] == "absent"]
    assert gone == [{"name": "sonarr", "state": "absent"}]
    assert {"kind": "sonarr", "name": "sonarr", "state": "absent"} in calls["seerr"]["services"]
    assert {"name": "sonarr", "state": "absent"} in calls["qbittorrent"]["categories"]
    assert calls["radarr"]["download_clients"][0]["_secrets"]["password"] == ["qbittorrent", "password"]
    assert all(i["state"] == "present" for i in link_model.plan(STACK, before, record)["prowlarr"]["applications"])
    # The Shows library holds the user's collection: no longer derived, but kept.
    assert not [i for i in calls["jellyfin"]["libraries"] if i["state"] == "absent"]


def test_plan_of_an_unchanged_stack_deletes_nothing():
    links = link_model.derive(STACK)
    calls = link_model.plan(STACK, links, link_model.record(links))
    assert not [i for groups in calls.values() for items in groups.values() for i in items if i["state"] == "absent"]


def test_a_removed_extra_link_is_deleted_too():
    extra = {"extra": [{"app": "radarr", "group": "tags", "item": {"label": "kids"}}]}
    record = link_model.record(link_model.derive(STACK, extra))
    calls = link_model.plan(STACK, link_model.derive(STACK), record)
    assert {"label": "kids", "state": "absent"} in calls["radarr"]["tags"]


CREDENTIALS = {"qbittorrent": {"username": "admin", "password": "pw1"}, "radarr": {"api_key": "r1", "password": "l1"},
               "radarr-4k": {"api_key": "r4"}, "sonarr": {"api_key": "s1"}, "sabnzbd": {"api_key": "z1"}}


def test_a_rotated_secret_is_rewritten_on_exactly_the_links_that_use_it():
    links = link_model.derive(STACK)
    before = link_model.fingerprints(links, ["radarr"], CREDENTIALS, "key")
    record = link_model.record(links, before)
    assert "pw1" not in repr(record) and "r1" not in str(record["fingerprints"].values())
    assert link_model.rotated(record, before) == []                       # nothing rotated: nothing rewritten
    calls = link_model.plan(STACK, links, record)

    def rewritten(credentials):
        return sorted((app, i.get("name") or i["kind"]) for app, groups in calls.items() for items in groups.values() for i in items
                      if link_model.needs_rewrite(i, credentials, "key"))
    assert rewritten(CREDENTIALS) == []
    rotated = dict(CREDENTIALS, qbittorrent={"username": "admin", "password": "pw2"})
    assert rewritten(rotated) == [("radarr", "qbittorrent"), ("radarr-4k", "qbittorrent"), ("sonarr", "qbittorrent")]
    # Seerr does not mask the key it is given (its row in the link table): compared, not rewritten by force
    key = dict(CREDENTIALS, radarr={"api_key": "r2", "password": "l1"})
    assert rewritten(key) == [("bazarr", "radarr"), ("prowlarr", "radarr")]
    login = dict(CREDENTIALS, radarr={"api_key": "r1", "password": "l2"})
    assert link_model.rotated(record, link_model.fingerprints(links, ["radarr"], login, "key")) == ["login/radarr"]
    # Another key, other fingerprints: a record's reader without the key cannot test a guess.
    assert link_model.fingerprints(links, [], CREDENTIALS, "other") != link_model.fingerprints(links, [], CREDENTIALS, "key")


def test_a_key_made_during_the_run_is_pushed_once_and_then_left_alone():
    """Jellyfin's key: unknown when the run is planned (inventory credentials), known when the notifications are
    sent; the record keeps what was pushed, so the next run - planned without it again - rewrites nothing."""
    stack = STACK
    links = link_model.derive(stack)
    with_key = dict(CREDENTIALS, jellyfin={"api_key": "j1"})
    record = link_model.record(links, link_model.fingerprints(links, [], with_key, "key"))
    item = link_model.plan(stack, links, record)["radarr"]["notifications"][0]
    assert not link_model.needs_rewrite(item, CREDENTIALS, "key")          # not known yet: nothing to tell
    assert not link_model.needs_rewrite(item, with_key, "key")
    assert link_model.needs_rewrite(item, dict(CREDENTIALS, jellyfin={"api_key": "j2"}), "key")


def test_a_record_of_the_first_version_still_prunes():
    links = link_model.derive(STACK)
    old = link_model.record(links)["links"]                               # version 1: the list itself
    calls = link_model.plan([a for a in STACK if a["name"] != "sonarr"],
                            [link for link in links if link["to"] != "sonarr"], old)
    assert {"name": "sonarr", "state": "absent"} in calls["prowlarr"]["applications"]
