"""The survey instrument and the reader of its REDCap exports.

``dictionary``: the data dictionary, parsed into :class:`Field` and :class:`Instrument`.
``redcap``: the export reader, which finds the export's delimiter and checks every cell against the
dictionary. ``decode``: validated codes into analysis items, and records into clinics and
coordinators. The re-exports are eager: make's prerequisites come from the imports read statically
(:mod:`ccanalysis.makedeps`), which a lazy ``__getattr__`` would hide.
"""

from ccanalysis.instrument.decode import (
    CARE_SYSTEM_ID,
    COORDINATOR_FORM,
    COORDINATOR_ID,
    clinic_items,
    coordinator_disagreements,
    coordinator_items,
    decode_checkbox_items,
    decode_checkbox_single,
    split_frames,
)
from ccanalysis.instrument.dictionary import (
    API_COLUMNS,
    COMPLETE_CHOICES,
    DICTIONARY_COLUMNS,
    Field,
    Instrument,
    checkbox_column,
    parse_choices,
    parse_dictionary,
    read_dictionary,
)
from ccanalysis.instrument.redcap import (
    DELIMITERS,
    detect_delimiter,
    export_layout,
    read_cells,
    read_export,
    read_export_with_stats,
)

__all__ = [
    "API_COLUMNS",
    "CARE_SYSTEM_ID",
    "COMPLETE_CHOICES",
    "COORDINATOR_FORM",
    "COORDINATOR_ID",
    "DELIMITERS",
    "DICTIONARY_COLUMNS",
    "Field",
    "Instrument",
    "checkbox_column",
    "clinic_items",
    "coordinator_disagreements",
    "coordinator_items",
    "decode_checkbox_items",
    "decode_checkbox_single",
    "detect_delimiter",
    "export_layout",
    "parse_choices",
    "parse_dictionary",
    "read_cells",
    "read_dictionary",
    "read_export",
    "read_export_with_stats",
    "split_frames",
]
