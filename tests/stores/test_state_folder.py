"""The state folder holds birth dates (the register, Temporal's store): what Bosetting writes
there is readable by its own user only."""

import subprocess
import sys


def test_what_a_process_writes_in_the_state_folder_is_for_its_user_alone(tmp_path):
    state = tmp_path / "state"
    env = {"BOSETTING_STATE_DIR": str(state), "PATH": "/usr/bin:/bin"}
    for command in (["db", "upgrade"], ["tokens", "mint", "operations", "--subject", "ops-1"]):
        done = subprocess.run(
            [sys.executable, "-m", "workers.cli.main", *command],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
    written = [state, *state.rglob("*")]
    assert {p.name for p in written} >= {"register.db", "projection.db", "dev-signing-key.pem"}
    open_to_others = [p.name for p in written if p.stat().st_mode & 0o077]
    assert open_to_others == []
