"""Images (data, files, URLs, queries, counts, delete), regions and image tags on v3.3."""

from __future__ import annotations

import base64

import pytest

from customvision_emulator.samples import png

from .conftest import GENERAL_DETECTION, Api


def test_images_from_data_multipart_and_octet_stream(api: Api) -> None:
    pid = api.project()["id"]
    tag = api.tag(pid, "a")["id"]
    files = [("imageData", (f"{s}.png", png(s, 8, 6), "image/png")) for s in (1, 2)]
    body = api.ok("POST", f"/projects/{pid}/images", params={"tagIds": tag}, files=files)
    assert body["isBatchSuccessful"] is True
    assert [i["sourceUrl"] for i in body["images"]] == ['"1.png"', '"2.png"']
    image = body["images"][0]["image"]
    assert (image["width"], image["height"]) == (8, 6)
    # Fresh images answer their tag names as null, like the service (recordings).
    assert image["tags"][0]["tagId"] == tag and image["tags"][0]["tagName"] is None
    assert "regions" not in image
    assert image["created"][-1] != "Z" and len(image["created"].split(".")[1]) == 7
    raw = api.ok(
        "POST",
        f"/projects/{pid}/images",
        data=png(3),
        headers={"Content-Type": "application/octet-stream"},
    )
    assert raw["images"][0]["status"] == "OK"
    assert api.ok("GET", f"/projects/{pid}/images/count") == 3
    assert api.ok("GET", f"/projects/{pid}/images/tagged/count") == 2
    assert api.ok("GET", f"/projects/{pid}/images/untagged/count") == 1


def test_partial_batch_is_207_with_duplicate_and_bad_format(api: Api) -> None:
    pid = api.project()["id"]
    api.images(pid, [1], [])
    files = [
        ("imageData", ("dup.png", png(1), "image/png")),
        ("imageData", ("bad.png", b"not an image", "image/png")),
        ("imageData", ("new.png", png(2), "image/png")),
    ]
    r = api.call("POST", f"/projects/{pid}/images", files=files)
    assert r.status_code == 207
    body = r.json()
    assert body["isBatchSuccessful"] is False
    assert [i["status"] for i in body["images"]] == ["OKDuplicate", "ErrorImageFormat", "OK"]
    assert "image" not in body["images"][1]


def test_images_from_files_and_urls(api: Api) -> None:
    pid = api.project()["id"]
    tag = api.tag(pid, "a")["id"]
    files = {
        "images": [{"name": "f.png", "contents": base64.b64encode(png(5)).decode()}],
        "tagIds": [tag],
        "metadata": {"source": "test"},
    }
    body = api.ok("POST", f"/projects/{pid}/images/files", json=files)
    assert body["images"][0]["status"] == "OK"
    assert body["images"][0]["image"]["metadata"] == {"source": "test"}
    urls = {"images": [{"url": "https://example.com/a.jpg", "tagIds": [tag]}]}
    body = api.ok("POST", f"/projects/{pid}/images/urls", json=urls)
    assert body["images"][0]["sourceUrl"] == "https://example.com/a.jpg"
    assert body["images"][0]["image"]["tags"][0]["tagId"] == tag
    r = api.call("POST", f"/projects/{pid}/images/urls", json={"images": [{"url": "ftp://x"}]})
    assert r.status_code == 207 and r.json()["images"][0]["status"] == "ErrorSource"
    too_many = {"images": [{"url": f"https://example.com/{n}.jpg"} for n in range(65)]}
    api.error("POST", f"/projects/{pid}/images/urls", 400, "BadRequestImageBatch", json=too_many)


def test_image_queries_and_delete(api: Api) -> None:
    pid = api.project()["id"]
    a, b = api.tag(pid, "a")["id"], api.tag(pid, "b")["id"]
    ia = api.images(pid, [1, 2], [a])
    ib = api.images(pid, [3], [b])
    iu = api.images(pid, [4], [])
    tagged = api.ok("GET", f"/projects/{pid}/images/tagged")
    assert [i["id"] for i in tagged] == ib + ia[::-1]  # newest first
    oldest = api.ok("GET", f"/projects/{pid}/images/tagged", params={"orderBy": "Oldest"})
    assert [i["id"] for i in oldest] == ia + ib
    only_b = api.ok("GET", f"/projects/{pid}/images/tagged", params={"tagIds": b})
    assert [i["id"] for i in only_b] == ib
    page = api.ok("GET", f"/projects/{pid}/images", params={"take": 2, "skip": 1})
    assert len(page) == 2
    untagged = api.ok("GET", f"/projects/{pid}/images/untagged")
    assert [i["id"] for i in untagged] == iu and "tags" not in untagged[0]
    assert (
        api.ok("GET", f"/projects/{pid}/images", params={"taggingStatus": "Untagged"}) == untagged
    )
    assert api.ok("GET", f"/projects/{pid}/images/tagged/count", params={"tagIds": a}) == 2
    assert api.ok("GET", f"/projects/{pid}/images/count", params={"taggingStatus": "Tagged"}) == 3
    by_ids = api.ok("GET", f"/projects/{pid}/images/id", params={"imageIds": ",".join(ia)})
    assert [i["id"] for i in by_ids] == ia
    assert api.ok("GET", f"/projects/{pid}/tags/{a}")["imageCount"] == 2
    api.ok("DELETE", f"/projects/{pid}/images", status=204, params={"imageIds": ia[0]})
    assert api.ok("GET", f"/projects/{pid}/images/count") == 3
    api.ok("DELETE", f"/projects/{pid}/images", status=202, params={"allImages": "true"})
    assert api.ok("GET", f"/projects/{pid}/images/count") == 0


@pytest.fixture
def detection_image(api: Api) -> tuple[str, str, str]:
    """An object-detection project with a tag and one image: (project, tag, image) ids."""
    pid = api.project("od", GENERAL_DETECTION)["id"]
    tag = api.tag(pid, "t")["id"]
    (image,) = api.images(pid, [1], [])
    return pid, tag, image


def _regions(image_id: str, tag_id: str, n: int, top: float = 0.1) -> list[dict[str, object]]:
    return [
        {
            "imageId": image_id,
            "tagId": tag_id,
            "left": 0.001 * k,
            "top": top,
            "width": 0.1,
            "height": 0.1,
        }
        for k in range(n)
    ]


def test_regions_created_duplicated_exceeded(
    api: Api, detection_image: tuple[str, str, str]
) -> None:
    pid, tag, image = detection_image
    body = api.ok(
        "POST", f"/projects/{pid}/images/regions", json={"regions": _regions(image, tag, 2)}
    )
    assert len(body["created"]) == 2 and body["duplicated"] == [] and body["exceeded"] == []
    created = body["created"][0]
    assert created["regionId"] and created["tagName"] is None and created["imageId"] == image
    # Same box again: duplicated, answered 207 on v3.3.
    r = api.call(
        "POST", f"/projects/{pid}/images/regions", json={"regions": _regions(image, tag, 1)}
    )
    assert r.status_code == 207
    assert r.json()["created"] == [] and len(r.json()["duplicated"]) == 1
    # Fill the image: 2 + 4 x 64 = 258 regions, then 42 more fit and 22 are exceeded.
    for batch in range(4):
        regions = _regions(image, tag, 64, top=0.2 + batch * 0.1)
        body = api.ok("POST", f"/projects/{pid}/images/regions", json={"regions": regions})
        assert len(body["created"]) == 64
    regions = _regions(image, tag, 64, top=0.7)
    r = api.call("POST", f"/projects/{pid}/images/regions", json={"regions": regions})
    assert r.status_code == 207
    assert (len(r.json()["created"]), len(r.json()["exceeded"])) == (42, 22)
    img = api.ok("GET", f"/projects/{pid}/images/id", params={"imageIds": image})[0]
    assert len(img["regions"]) == 300
    # The image is tagged by its regions; tagName is set on reads.
    img = api.ok("GET", f"/projects/{pid}/images/id", params={"imageIds": image})[0]
    assert img["tags"][0]["tagId"] == tag
    assert img["regions"][0]["tagName"] == "t"


def test_region_batch_limits_and_validation(
    api: Api, detection_image: tuple[str, str, str]
) -> None:
    pid, tag, image = detection_image
    api.error(
        "POST",
        f"/projects/{pid}/images/regions",
        400,
        "BadRequestExceededBatchSize",
        json={"regions": _regions(image, tag, 65)},
    )
    img = api.ok("GET", f"/projects/{pid}/images/id", params={"imageIds": image})[0]
    assert "regions" not in img
    bad = [{"imageId": image, "tagId": tag, "left": 0.9, "top": 0, "width": 0.5, "height": 0.1}]
    api.error(
        "POST",
        f"/projects/{pid}/images/regions",
        400,
        "BadRequestImageRegions",
        json={"regions": bad},
    )
    unknown = _regions("00000000-0000-0000-0000-000000000000", tag, 1)
    api.error(
        "POST",
        f"/projects/{pid}/images/regions",
        400,
        "BadRequestInvalidIds",
        json={"regions": unknown},
    )


def test_delete_regions_untags_image(api: Api, detection_image: tuple[str, str, str]) -> None:
    pid, tag, image = detection_image
    created = api.ok(
        "POST", f"/projects/{pid}/images/regions", json={"regions": _regions(image, tag, 1)}
    )
    rid = created["created"][0]["regionId"]
    assert api.ok("GET", f"/projects/{pid}/images/tagged/count") == 1
    api.ok("DELETE", f"/projects/{pid}/images/regions", status=204, params={"regionIds": rid})
    img = api.ok("GET", f"/projects/{pid}/images/id", params={"imageIds": image})[0]
    assert "regions" not in img and "tags" not in img


def test_image_tags(api: Api) -> None:
    pid = api.project()["id"]
    tag = api.tag(pid, "t")["id"]
    (image,) = api.images(pid, [1], [])
    batch = {"tags": [{"imageId": image, "tagId": tag}]}
    assert api.ok("POST", f"/projects/{pid}/images/tags", json=batch)["created"] == batch["tags"]
    assert api.ok("POST", f"/projects/{pid}/images/tags", json=batch)["duplicated"] == batch["tags"]
    api.ok(
        "DELETE",
        f"/projects/{pid}/images/tags",
        status=204,
        params={"imageIds": image, "tagIds": tag},
    )
    assert api.ok("GET", f"/projects/{pid}/images/untagged/count") == 1


def test_ten_thousand_regions_on_two_thousand_images(api: Api) -> None:
    import time

    pid = api.project("big", GENERAL_DETECTION)["id"]
    tags = [api.tag(pid, f"t{n}")["id"] for n in range(5)]
    started = time.monotonic()
    images: list[str] = []
    for first in range(0, 2000, 64):
        urls = {
            "images": [
                {"url": f"https://example.com/{n}.jpg"} for n in range(first, min(first + 64, 2000))
            ]
        }
        body = api.ok("POST", f"/projects/{pid}/images/urls", json=urls)
        images += [i["image"]["id"] for i in body["images"]]
    entries = [
        {
            "imageId": image,
            "tagId": tags[k],
            "left": 0.1 * k,
            "top": 0.1,
            "width": 0.1,
            "height": 0.1,
        }
        for image in images
        for k in range(5)
    ]
    for first in range(0, len(entries), 64):
        body = api.ok(
            "POST", f"/projects/{pid}/images/regions", json={"regions": entries[first : first + 64]}
        )
        assert len(body["created"]) == len(entries[first : first + 64])
    page = api.ok("GET", f"/projects/{pid}/images/tagged", params={"take": 256})
    assert len(page) == 256 and all(len(i["regions"]) == 5 for i in page)
    assert api.ok("GET", f"/projects/{pid}/images/tagged/count") == 2000
    elapsed = time.monotonic() - started
    assert elapsed < 60, elapsed


def test_metadata_proposals_and_performance(api: Api) -> None:
    pid, tags = api.trainable()
    (image,) = api.images(pid, [77], [])
    body = api.ok(
        "POST",
        f"/projects/{pid}/images/metadata",
        params={"imageIds": image},
        json={"camera": "left"},
    )
    assert body == {
        "isBatchSuccessful": True,
        "images": [{"imageId": image, "status": "OK", "metadata": {"camera": "left"}}],
    }
    got = api.ok("GET", f"/projects/{pid}/images/id", params={"imageIds": image})[0]
    assert got["metadata"] == {"camera": "left"}
    assert (
        api.at("3.2")
        .call("POST", f"/projects/{pid}/images/metadata", params={"imageIds": image}, json={})
        .status_code
        == 404
    )
    proposals = api.ok("POST", f"/projects/{pid}/images/{image}/regionproposals")
    assert proposals["imageId"] == image and proposals["proposals"][0]["boundingBox"]
    it = api.ok("POST", f"/projects/{pid}/train")
    api.error(
        "GET",
        f"/projects/{pid}/iterations/{it['id']}/performance",
        400,
        "BadRequestIterationIsNotTrained",
    )
    api.wait_iteration(pid, it["id"], "Completed")
    perf = api.ok(
        "GET", f"/projects/{pid}/iterations/{it['id']}/performance", params={"threshold": 0.5}
    )
    assert {t["id"] for t in perf["perTagPerformance"]} == set(tags)
    assert 0 <= perf["precision"] <= 1
