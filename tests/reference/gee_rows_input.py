"""Write gee_rows_input.csv: the outcome of every row of Tables 3 and 4 for each clinic of the
synthetic run (0/1 for a level, the answer for a mean, empty where not answered), with its care
system and care model group (0 medical/nursing, 1 integrated social worker, as the 04 stage codes
them). gee_rows.R fits each column with lm + clubSandwich (and the design-effect Newcombe interval
of each 0/1 column); tests/test_gee_rows_against_r.py checks ccanalysis.stats.clustered and the
pipeline's gee_care_system rows against it.

Run after `make all` on the synthetic stand-in: python tests/reference/gee_rows_input.py
"""

from pathlib import Path

import numpy as np
import pandas as pd

from ccanalysis.paths import project_root
from ccanalysis.sensitivity.inputs import analysis_rows, prepare
from ccanalysis.spec import read_spec

root = project_root()
clinics = pd.read_parquet(root / "data/processed/clinics.parquet")
rows = analysis_rows(read_spec())
data = prepare(clinics, rows)
out = pd.DataFrame({"system": data.systems[data.system], "group": data.group})
for j, row in enumerate(rows):
    out[":".join(row.key)] = np.where(data.valid[:, j], data.y[:, j], np.nan)
out.to_csv(Path(__file__).with_name("gee_rows_input.csv"), index=False, float_format="%.17g")
