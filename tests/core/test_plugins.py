"""The plugin manager: discovery, isolation of broken plugins, duplicates, environment switches."""

from __future__ import annotations

import tomllib
import types

import pytest

import cvkit
from cvkit.contract.plugins import PluginManager
from helpers import ROOT, assert_user_error, run_cli, write_dist


def workspace_entry_points() -> dict[str, dict[str, tuple[str, str]]]:
    """Per plugin package of the workspace, its ``cvkit`` entry points: name -> (distribution, module)."""
    found = {}
    for pyproject in sorted((ROOT / "plugins").glob("*/pyproject.toml")):
        project = tomllib.loads(pyproject.read_text())["project"]
        entry_points = project.get("entry-points", {}).get("cvkit", {})
        found[pyproject.parent.name] = {name: (project["name"], module) for name, module in entry_points.items()}
    return found


def test_every_builtin_plugin_loads_through_entry_points():
    packages = workspace_entry_points()
    assert packages and all(packages.values()), f"a plugin package declares no cvkit entry point: {packages}"
    expected = {name: target for entry_points in packages.values() for name, target in entry_points.items()}
    infos = {p.name: p for p in cvkit.list_plugins()}
    loaded = {name: (infos[name].distribution, infos[name].module) for name in expected if name in infos}
    assert loaded == expected
    broken = {name: p.error for name, p in infos.items() if not p.ok}
    assert not broken


def test_registered_names_remember_their_package():
    registries = cvkit.get_registries()
    assert registries.backbones.get("densenet121").plugin == "cvkit-densenet"
    assert registries.datasets.get("folder").plugin == "cvkit-core"


def _arch_plugin(name: str):
    plugin = types.SimpleNamespace()

    @cvkit.hookimpl
    def register_backbones(register):
        register(name, build="cvkit_densenet.backbone:build_densenet", family="fake",
                 defaults=dict(cvkit.get_backbone("densenet_bc_100_12").defaults))

    plugin.register_backbones = register_backbones
    return plugin


def test_in_process_plugin_registers_and_duplicates_name_both():
    pm = PluginManager(autoload=False)
    pm.register(_arch_plugin("fakenet"), name="one", distribution="cvkit-one")
    assert pm.registries.backbones.get("fakenet").plugin == "cvkit-one"
    pm.register(_arch_plugin("fakenet"), name="two", distribution="cvkit-two")
    with pytest.raises(cvkit.DuplicateNameError, match="cvkit-one.*cvkit-two"):
        pm.registries


def test_a_plugin_whose_hook_raises_is_recorded_and_the_rest_register():
    bad = types.SimpleNamespace()

    @cvkit.hookimpl
    def register_backbones(register):
        raise RuntimeError("boom")

    bad.register_backbones = register_backbones
    pm = PluginManager(autoload=False)
    pm.register(bad, name="bad")
    pm.register(_arch_plugin("goodnet"), name="good")
    assert "goodnet" in pm.registries.backbones
    assert "boom" in pm.infos["bad"].error


def test_a_plugin_with_an_unknown_hook_is_refused():
    odd = types.SimpleNamespace()

    @cvkit.hookimpl
    def register_widgets(register):
        pass

    odd.register_widgets = register_widgets
    pm = PluginManager(autoload=False)
    pm.register(odd, name="odd")
    assert "register_widgets" in pm.infos["odd"].error


def test_load_only_named_plugins(monkeypatch):
    monkeypatch.setenv("CVKIT_LOAD_PLUGINS", "densenet,classification")
    pm = PluginManager()
    assert set(pm.infos) == {"cvkit", "densenet", "classification"}


def test_disable_autoload(monkeypatch):
    monkeypatch.setenv("CVKIT_DISABLE_PLUGIN_AUTOLOAD", "1")
    pm = PluginManager()
    assert set(pm.infos) == {"cvkit"}
    assert "folder" in pm.registries.datasets  # core's own loaders stay


BROKEN = "raise ImportError('needs libfoo; pip install foo')\n"
DUPLICATE = '''
import cvkit

@cvkit.hookimpl
def register_datasets(register):
    register("digits", load="cvkit.data.folder:load_folder", tasks={"classification"})
'''


def test_broken_plugin_is_shown_and_the_others_keep_working(tmp_path):
    write_dist(tmp_path, "cvkit-broken", {"broken": "cvkit_broken"}, {"cvkit_broken": BROKEN})
    env = {"PYTHONPATH": str(tmp_path)}
    plugins = run_cli("plugins", env=env)
    assert plugins.returncode == 0, plugins.stderr
    assert "cvkit-broken" in plugins.stdout and "FAILED: ImportError: needs libfoo" in plugins.stdout
    listing = run_cli("list", "archs", env=env)
    assert listing.returncode == 0 and "densenet121" in listing.stdout


def test_two_plugins_claiming_one_name_is_an_error_naming_both(tmp_path):
    write_dist(tmp_path, "cvkit-other-digits", {"otherdigits": "cvkit_other_digits"}, {"cvkit_other_digits": DUPLICATE})
    result = run_cli("list", env={"PYTHONPATH": str(tmp_path)})
    assert_user_error(result, "cvkit-data-digits", "cvkit-other-digits", "'digits'")
    shown = run_cli("plugins", env={"PYTHONPATH": str(tmp_path)})
    assert shown.returncode == 0 and "conflict:" in shown.stdout
