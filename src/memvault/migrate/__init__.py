"""Moving legacy assistant data into memvault: source readers, the import pipeline, transfer."""

from memvault.migrate.dualwrite import DualWrite as DualWrite
from memvault.migrate.dualwrite import JsonFileLegacy as JsonFileLegacy
from memvault.migrate.dualwrite import LegacyStore as LegacyStore
from memvault.migrate.export import export_lilith as export_lilith
from memvault.migrate.export import export_store as export_store
from memvault.migrate.export import export_workly as export_workly
from memvault.migrate.lock import ImportLocked as ImportLocked
from memvault.migrate.pipeline import ProgressEvent as ProgressEvent
from memvault.migrate.pipeline import SourceChanged as SourceChanged
from memvault.migrate.pipeline import import_source as import_source
from memvault.migrate.report import ImportResult as ImportResult
from memvault.migrate.transfer import TransferError as TransferError
from memvault.migrate.transfer import TransferResult as TransferResult
from memvault.migrate.transfer import VerificationFailed as VerificationFailed
from memvault.migrate.transfer import transfer as transfer
from memvault.migrate.verify import VerifyReport as VerifyReport
from memvault.migrate.verify import verify_against as verify_against
