"""Where the stages put their artefacts (relative to the project root)."""

from pathlib import Path

STUDY = Path("study.yaml")                     # researcher input: the study's declarations
OUTPUTS = Path("outputs")
PRIVATE = OUTPUTS / "private"
WORK = OUTPUTS / "work"
CACHE = OUTPUTS / "cache"

EXTRACTED_DIR = PRIVATE / "extracted"          # original text: may contain names
PSEUDONYM_KEY = PRIVATE / "pseudonym_key.csv"  # tag -> original: stays with the researcher
PSEUDONYMISED_DIR = WORK / "pseudonymised"
PSEUDONYMISED_REGISTER = WORK / "pseudonymised_register.json"  # organisation labels for the database
FRAGMENTS = WORK / "fragments"                 # <doc_id>.jsonl per document (read_jsonl reads the folder)
DATABASE = OUTPUTS / "kwalitatief.db"

# classify stage (issue 4)
ANNOTATIONS_DIR = Path("codebook") / "annotations"   # researcher input: manual coding
REVIEWS = Path("codebook") / "reviews.jsonl"         # researcher input: review decisions (append-only)
TRAINING_DIR = Path("codebook") / "training"         # researcher input: free-standing annotated fragments
MODEL_DIR = OUTPUTS / "model"
CODINGS_CLASSIFIER = WORK / "codings_classifier"   # <doc_id>.jsonl per document, like every codings folder
CODINGS = WORK / "codings"                          # merged rule + classifier codings
METRICS = OUTPUTS / "metrics.json"                # summary per system: what `dvc metrics show` prints
METRICS_DETAIL = OUTPUTS / "metrics_detail.json"  # per code, per merge policy, learning curve
PLOTS_DIR = OUTPUTS / "plots"
PLOT_F1_PER_CODE = PLOTS_DIR / "f1_per_code.csv"
PLOT_LEARNING_CURVE = PLOTS_DIR / "learning_curve.csv"

# aggregate, conclusions and report stages (issue 5)
CODEBOOK = Path("codebook") / "codebook.yaml"
CONCLUSIONS_INPUT = Path("codebook") / "conclusions.yaml"   # researcher input: the report's claims
CODINGS_RULE = WORK / "codings_rule"
AGGREGATES_DIR = OUTPUTS / "aggregates"                     # one CSV per aggregate table
AGGREGATES_XLSX = OUTPUTS / "aggregates.xlsx"
CONCLUSIONS = OUTPUTS / "conclusions.json"
REPORT_HTML = OUTPUTS / "report.html"
REPORT_MD = OUTPUTS / "report.md"


def problems_file(stage: str) -> Path:
    """The problems a stage found (one JSON object a line: stage, doc_id, severity, message)."""
    return WORK / f"problems_{stage}.jsonl"
