"""Bring your own data: parse, check and import area counts (TPMAP layout) and household files.

The page's path::

    report = check(data, file_name, kind="households")        # or parse() then validate()
    st.write(report.summary(lang)); st.dataframe(report.problem_table(lang))
    if accepted: info = import_dataset(report, mode="valid_rows" or "all_or_nothing")
    # cancel: drop the report; nothing was written

Until :func:`import_dataset` returns, the data in use is untouched. Modules: ``parse`` (bytes -> table),
``columns`` (accepted headers), ``cells`` (numbers, codes, flags), ``places`` (codes and names via
geothai), ``checks``/``check_households``/``check_counts`` (the rules), ``validate`` (the report),
``datasets`` (registry, atomic import), ``blocks`` (a national household file, checked in blocks), ``privacy`` (small-cell suppression), ``problems`` (the one
problem type; its texts are in the catalogue, povmap/core/locales).
"""
from povmap.data.uploads.columns import KIND_COUNTS, KIND_HOUSEHOLDS, KINDS, aliases_markdown
from povmap.data.uploads.datasets import (
                       BUILTIN,
                       BUILTIN_IDS,
                       ROUND2,
                       USER_DATA_ENV,
                       DatasetError,
                       DatasetInfo,
                       active_id,
                       delete_dataset,
                       get_dataset,
                       import_dataset,
                       list_datasets,
                       load_table,
                       table_path,
                       report_provinces,
                       set_active,
                       set_published,
                       user_data_dir,
)
from povmap.data.uploads.parse import MAX_UPLOAD_BYTES, UPLOAD_LIMIT_MB, Parsed, parse, sheet_names
from povmap.data.uploads.problems import ERROR, SEVERITY, WARNING, UploadProblem
from povmap.data.uploads.validate import ALL_OR_NOTHING, MODES, VALID_ROWS, Report, check, validate
from povmap.data.uploads.blocks import check_path, check_upload

__all__ = [
    "KIND_COUNTS", "KIND_HOUSEHOLDS", "KINDS", "aliases_markdown",
    "BUILTIN", "BUILTIN_IDS", "ROUND2", "USER_DATA_ENV", "DatasetError", "DatasetInfo", "active_id", "delete_dataset", "get_dataset",
    "import_dataset", "list_datasets", "load_table", "table_path", "report_provinces", "set_active", "set_published", "user_data_dir",
    "MAX_UPLOAD_BYTES", "UPLOAD_LIMIT_MB", "Parsed", "parse", "sheet_names",
    "ERROR", "SEVERITY", "WARNING", "UploadProblem",
    "ALL_OR_NOTHING", "MODES", "VALID_ROWS", "Report", "check", "validate", "check_path", "check_upload",
]
