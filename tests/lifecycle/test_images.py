"""Images through the engine driver against the emulator: lifecycle, files, checks, refusals."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from customvision_emulator.samples import bmp, png
from customvision_emulator.testing import RunningEmulator
from pulumi_customvision._rest import TrainingClient
from pulumi_customvision.images import ImagesProvider
from tests.engine import CheckFailedError, ProviderError, Resource, Stack
from tests.lifecycle.conftest import declare, emulator_project, write_counts


def images_decl(project_id: str, **inputs: Any) -> dict[str, Resource]:
    return {"imgs": declare(ImagesProvider(), "Images", project_id=project_id, **inputs)}


def service_images(emu: RunningEmulator, project_id: str) -> dict[str, dict[str, Any]]:
    return {i["id"]: i for i in emulator_project(emu, project_id)["images"]}


def write_images(folder: Path, count: int, start: int = 0) -> list[str]:
    paths = []
    for n in range(start, start + count):
        path = folder / f"img{n:03d}.png"
        path.write_bytes(png(10_000 + n))
        paths.append(str(path))
    return paths


def test_images_lifecycle(
    stack: Stack,
    customvision_emulator: RunningEmulator,
    client: TrainingClient,
    project_id: str,
    tmp_path: Path,
) -> None:
    emu = customvision_emulator
    files = write_images(tmp_path, 70)  # two CreateImagesFromData calls
    urls = [f"https://example.com/img/{n}.jpg" for n in range(3)]
    tag = client.create_tag(project_id, "part").id

    # create
    emu.admin.clear_log()
    log = stack.up(images_decl(project_id, urls=urls, files=files, tag_ids=[tag]))
    assert log.ops() == {"imgs": "create"}
    assert write_counts(emu) == {"CreateImagesFromData": 2, "CreateImagesFromUrls": 1}
    out = stack.outputs("imgs")
    assert out["count"] == 73 and set(out["ids"]) == set(urls) | set(files)
    assert set(service_images(emu, project_id)) == set(out["ids"].values())
    assert all(
        [t["tagId"] for t in image["tags"]] == [tag]
        for image in service_images(emu, project_id).values()
    )

    # reordering is no change
    log = stack.up(
        images_decl(project_id, urls=urls[::-1], files=files[::-1], tag_ids=[tag]),
        expect_empty_second_up=False,
    )
    assert log.ops() == {"imgs": "same"}

    # add one URL and one file, remove one of each: only the difference
    emu.admin.clear_log()
    new_file = write_images(tmp_path, 1, start=500)[0]
    urls2 = [*urls[1:], "https://example.com/img/new.jpg"]
    files2 = [*files[1:], new_file]
    log = stack.up(images_decl(project_id, urls=urls2, files=files2, tag_ids=[tag]))
    assert log.ops() == {"imgs": "update"}
    assert write_counts(emu) == {
        "CreateImagesFromUrls": 1,
        "CreateImagesFromData": 1,
        "DeleteImages": 1,
    }
    out2 = stack.outputs("imgs")
    assert out2["ids"][files[5]] == out["ids"][files[5]]  # untouched images keep their ids
    assert set(service_images(emu, project_id)) == set(out2["ids"].values())
    assert out["ids"][files[0]] not in service_images(emu, project_id)

    # a file whose content changed is uploaded again (and the old image deleted)
    Path(files[5]).write_bytes(png(99_999))
    emu.admin.clear_log()
    log = stack.up(images_decl(project_id, urls=urls2, files=files2, tag_ids=[tag]))
    assert log.ops() == {"imgs": "update"}
    assert write_counts(emu) == {"CreateImagesFromData": 1, "DeleteImages": 1}
    out3 = stack.outputs("imgs")
    assert out3["ids"][files[5]] != out2["ids"][files[5]]
    assert set(service_images(emu, project_id)) == set(out3["ids"].values())

    # changing tag_ids re-tags in place
    other = client.create_tag(project_id, "other").id
    emu.admin.clear_log()
    log = stack.up(images_decl(project_id, urls=urls2, files=files2, tag_ids=[other]))
    assert log.ops() == {"imgs": "update"}
    assert set(write_counts(emu)) == {"CreateImageTags", "DeleteImageTags"}
    assert all(
        [t["tagId"] for t in image["tags"]] == [other]
        for image in service_images(emu, project_id).values()
    )

    # refresh: images deleted out of band are drift; the next up uploads them again
    gone = [out3["ids"][files2[0]], out3["ids"][urls2[0]]]
    client.delete_images(project_id, gone)
    log = stack.refresh()
    assert {"ids", "count", "revision"} <= set(log.step("imgs").changed_keys)
    assert stack.outputs("imgs")["count"] == 71
    emu.admin.clear_log()
    log = stack.up(images_decl(project_id, urls=urls2, files=files2, tag_ids=[other]))
    assert log.ops() == {"imgs": "update"}
    assert write_counts(emu) == {"CreateImagesFromData": 1, "CreateImagesFromUrls": 1}
    assert stack.outputs("imgs")["count"] == 73
    assert set(service_images(emu, project_id)) == set(stack.outputs("imgs")["ids"].values())

    # destroy (one image already gone: tolerated)
    client.delete_images(project_id, [stack.outputs("imgs")["ids"][files2[1]]])
    stack.destroy()
    assert service_images(emu, project_id) == {}


def test_check_refuses_bad_files_naming_them(stack: Stack, project_id: str, tmp_path: Path) -> None:
    good = write_images(tmp_path, 1)[0]
    big = tmp_path / "big.png"
    big.write_bytes(png(1) + b"\x00" * (6 * 1024 * 1024))
    text = tmp_path / "notes.png"
    text.write_text("not an image")
    missing = str(tmp_path / "missing.jpg")
    with pytest.raises(CheckFailedError) as failed:
        stack.up(images_decl(project_id, files=[good, str(big), str(text), missing]))
    message = str(failed.value)
    assert f"{str(big)!r} is 6.0 MB; Custom Vision accepts images up to 6 MB" in message
    assert f"{str(text)!r} is not a JPEG, PNG, GIF or BMP image" in message
    assert f"cannot read {missing!r}" in message
    assert str(good) not in message
    with pytest.raises(CheckFailedError, match="listed twice"):
        stack.up(images_decl(project_id, files=[good, good]))
    with pytest.raises(CheckFailedError, match="is not an http"):
        stack.up(images_decl(project_id, urls=["ftp://example.com/a.jpg"]))


def test_refused_images_roll_back_the_create(
    stack: Stack, customvision_emulator: RunningEmulator, project_id: str, tmp_path: Path
) -> None:
    emu = customvision_emulator
    files = write_images(tmp_path, 70)
    bitmap = tmp_path / "a.bmp"
    bitmap.write_bytes(bmp(3))
    # looks like a JPEG (passes check) but the service cannot read it
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * 64)
    with pytest.raises(ProviderError) as failed:
        stack.up(images_decl(project_id, files=[*files, str(bitmap), str(broken)]))
    assert f"{broken}: ErrorImageFormat" in str(failed.value)
    assert "imgs" not in stack.resources
    assert service_images(emu, project_id) == {}
    assert emu.admin.counters()["DeleteImages"] == {"204": 1}

    # a project that does not exist: nothing is left behind either
    with pytest.raises(ProviderError, match="could not create the images"):
        stack.up(images_decl("0e7c4a1f-3b2d-4c5e-9f80-1a2b3c4d5e6f", files=files))
    assert service_images(emu, project_id) == {}


def test_same_content_twice_is_one_image(
    stack: Stack, customvision_emulator: RunningEmulator, project_id: str, tmp_path: Path
) -> None:
    a, b = tmp_path / "a.png", tmp_path / "b.png"
    a.write_bytes(png(7))
    b.write_bytes(png(7))
    stack.up(images_decl(project_id, files=[str(a), str(b)]))
    ids = stack.outputs("imgs")["ids"]
    assert ids[str(a)] == ids[str(b)] and stack.outputs("imgs")["count"] == 1
    # dropping one source keeps the image the other still uses
    stack.up(images_decl(project_id, files=[str(b)]))
    assert list(service_images(customvision_emulator, project_id)) == [ids[str(b)]]
    stack.destroy()
    assert service_images(customvision_emulator, project_id) == {}


@pytest.mark.parametrize("when", ["drop_connection", "drop_after_handling"])
def test_lost_answer_adopts_what_was_made(
    when: str,
    stack: Stack,
    customvision_emulator: RunningEmulator,
    project_id: str,
    tmp_path: Path,
) -> None:
    """An upload whose answer is lost is sent again once: the service answers OKDuplicate."""
    emu = customvision_emulator
    files = write_images(tmp_path, 100)
    emu.admin.inject_fault(operation="CreateImagesFromData", count=1, **{when: True})
    stack.up(images_decl(project_id, files=files))
    ids = stack.outputs("imgs")["ids"]
    assert len(ids) == 100 and len(set(ids.values())) == 100
    assert set(service_images(emu, project_id)) == set(ids.values())
    stack.destroy()
    assert service_images(emu, project_id) == {}


def test_moved_files_keep_their_images(
    stack: Stack, customvision_emulator: RunningEmulator, project_id: str, tmp_path: Path
) -> None:
    """Same content under another path (another checkout directory): no upload, same ids."""
    emu = customvision_emulator
    first = tmp_path / "checkout-a"
    first.mkdir()
    files = write_images(first, 5)
    stack.up(images_decl(project_id, files=files))
    before = stack.outputs("imgs")["ids"]
    second = tmp_path / "checkout-b"
    first.rename(second)
    moved = [f.replace("checkout-a", "checkout-b") for f in files]
    emu.admin.clear_log()
    log = stack.up(images_decl(project_id, files=moved))
    assert log.ops() == {"imgs": "update"}
    assert write_counts(emu) == {}
    after = stack.outputs("imgs")["ids"]
    assert [after[m] for m in moved] == [before[f] for f in files]
    assert set(stack.outputs("imgs")["file_hashes"]) == set(moved)
    assert set(service_images(emu, project_id)) == set(after.values())
