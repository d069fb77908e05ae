"""The dispatcher: help, version, unknown commands and options."""
import re
import subprocess


def test_help_lists_commands(aftershock):
    result = aftershock("--help")
    assert result.returncode == 0
    assert re.search(r"^\s+run\s", result.stdout, re.M)
    assert re.search(r"^\s+probe\s", result.stdout, re.M)


def test_command_help_from_option_table(aftershock):
    result = aftershock("run", "--help")
    assert result.returncode == 0
    assert result.stdout.startswith("usage: aftershock run")
    for option in ("--journal-path", "--rollback-strategy", "--dry-run", "--verbose"):
        assert option in result.stdout


def test_version(aftershock):
    result = aftershock("--version")
    assert result.returncode == 0
    assert re.match(r"aftershock \d+\.\d+\.\d+", result.stdout)


def test_unknown_command(aftershock):
    result = aftershock("explode")
    assert result.returncode == 2
    assert "unknown command 'explode'" in result.stderr
    assert "aftershock --help" in result.stderr


def test_unknown_option(aftershock):
    result = aftershock("run", "--frobnicate", "x.json")
    assert result.returncode == 2
    assert "'--frobnicate'" in result.stderr
    assert "aftershock run --help" in result.stderr


def test_missing_option_value(aftershock):
    result = aftershock("run", "x.json", "--journal-path")
    assert result.returncode == 2
    assert "needs a value" in result.stderr


def test_missing_arguments(aftershock):
    result = aftershock("run")
    assert result.returncode == 2
    assert "EXPERIMENT" in result.stderr


def test_no_command(aftershock):
    result = aftershock()
    assert result.returncode == 2
    assert "usage:" in result.stderr


def test_write_error_exits_3(aftershock):
    import subprocess
    with open("/dev/full", "w") as full:
        proc = subprocess.run([aftershock.bin, "--help"], stdout=full, stderr=subprocess.PIPE,
                              text=True)
    assert proc.returncode == 3
    assert "cannot write" in proc.stderr


def test_binary_loads_curl_and_libpq_lazily(aftershock):
    # libcurl and libpq pull in TLS, LDAP and Kerberos libraries whose loading
    # would slow every command's start; they are opened with dlopen on first use.
    dynamic = subprocess.run(["readelf", "-d", aftershock.bin], capture_output=True, text=True,
                             check=True).stdout
    needed = re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", dynamic)
    assert "libc.so.6" in needed
    assert not [name for name in needed if name.startswith("libcurl")]
    assert not [name for name in needed if name.startswith("libpq")]
