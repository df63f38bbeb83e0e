// An exclusive lock on a run folder (`RUN/.lock`, flock(2)): two processes training into
// one folder would overwrite each other's checkpoints and interleave metrics.jsonl, so the
// second stops with the holder's PID. The kernel drops the lock when its holder exits,
// however it exits, so a killed run never leaves a stale lock behind.
import Foundation

final class RunLock {
    private var descriptor: Int32

    /// Takes the lock of `runDirectory` (which must exist), or throws naming its holder.
    init(runDirectory: String) throws {
        let path = (runDirectory as NSString).appendingPathComponent(".lock")
        descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o644)
        guard descriptor >= 0 else {
            throw TrainingFailure(message: "\(runDirectory): cannot create its lock file (\(String(cString: strerror(errno))))")
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let holder = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            close(descriptor)
            descriptor = -1
            throw TrainingFailure(message: "\(runDirectory) is in use by another ecdp process"
                                  + (holder.isEmpty ? "" : " (PID \(holder))") + "; wait for it to finish or stop it first")
        }
        let pid = "\(getpid())\n"
        _ = ftruncate(descriptor, 0)
        _ = pid.withCString { write(descriptor, $0, strlen($0)) }
    }

    /// Gives the lock up (also done when the lock is deallocated).
    func release() {
        guard descriptor >= 0 else { return }
        _ = ftruncate(descriptor, 0)
        close(descriptor)
        descriptor = -1
    }

    deinit { release() }
}
