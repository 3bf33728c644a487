"""Moving legacy assistant data into memvault: source readers, the import pipeline, transfer."""

from memvault.migrate.lock import ImportLocked as ImportLocked
from memvault.migrate.pipeline import ProgressEvent as ProgressEvent
from memvault.migrate.pipeline import SourceChanged as SourceChanged
from memvault.migrate.pipeline import import_source as import_source
from memvault.migrate.report import ImportResult as ImportResult
