"""The survey instrument (``dictionary``), the reader of its REDCap exports (``redcap``) and their
decoding into analysis items (``decode``). The re-exports are eager: :mod:`ccanalysis.makedeps`
reads the imports statically, which a lazy ``__getattr__`` would hide.
"""

from ccanalysis.instrument.csvfile import DELIMITERS as DELIMITERS
from ccanalysis.instrument.decode import CARE_SYSTEM_ID as CARE_SYSTEM_ID
from ccanalysis.instrument.decode import COORDINATOR_ID as COORDINATOR_ID
from ccanalysis.instrument.decode import clinic_items as clinic_items
from ccanalysis.instrument.decode import coordinator_disagreements as coordinator_disagreements
from ccanalysis.instrument.decode import split_frames as split_frames
from ccanalysis.instrument.dictionary import COMPLETE_CHOICES as COMPLETE_CHOICES
from ccanalysis.instrument.dictionary import Field as Field
from ccanalysis.instrument.dictionary import Instrument as Instrument
from ccanalysis.instrument.dictionary import checkbox_column as checkbox_column
from ccanalysis.instrument.dictionary import read_dictionary as read_dictionary
from ccanalysis.instrument.redcap import ReadStats as ReadStats
from ccanalysis.instrument.redcap import export_layout as export_layout
from ccanalysis.instrument.redcap import read_cells as read_cells
from ccanalysis.instrument.redcap import read_export as read_export
from ccanalysis.instrument.redcap import read_export_with_stats as read_export_with_stats
