import FUSE
import Foundation
import Support
import Synchronization
import Testing

/// A small fixed tree served from memory, to test the wrapper through the real kernel.
private final class MemoryFilesystem: ReadOnlyFilesystem {
    struct Node {
        var attributes: FileAttributes
        var content = Data()
        var children: [String: UInt64] = [:]
        var target = ""
        var xattrs: [String: Data] = [:]
    }

    let nodes: [UInt64: Node]

    init() {
        let big = Data((0..<(3 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 9) })
        nodes = [
            rootInode: Node(attributes: FileAttributes(inode: rootInode, kind: .directory, permissions: 0o755, linkCount: 3),
                            children: ["hello.txt": 2, "sub dir": 3, "link": 4, "secret.key": 6]),
            2: Node(attributes: FileAttributes(inode: 2, kind: .regular, permissions: 0o644, size: 6, uid: 1000, gid: 1000,
                                               modified: Timestamp(seconds: 1_700_000_000, nanoseconds: 5)),
                    content: Data("hello\n".utf8), xattrs: ["user.origin": Data("lab".utf8)]),
            3: Node(attributes: FileAttributes(inode: 3, kind: .directory, permissions: 0o750, linkCount: 2),
                    children: ["big.bin": 5]),
            4: Node(attributes: FileAttributes(inode: 4, kind: .symlink, permissions: 0o777, size: 9),
                    target: "hello.txt"),
            5: Node(attributes: FileAttributes(inode: 5, kind: .regular, permissions: 0o600, size: UInt64(big.count)),
                    content: big),
            6: Node(attributes: FileAttributes(inode: 6, kind: .regular, permissions: 0o400, size: 3), content: Data("key".utf8)),
        ]
    }

    private func node(_ inode: UInt64) throws -> Node {
        guard let node = nodes[inode] else { throw FUSEError(ENOENT) }
        return node
    }

    func lookup(parent: UInt64, name: String) throws -> FileAttributes {
        guard let inode = try node(parent).children[name] else { throw FUSEError(ENOENT) }
        return try node(inode).attributes
    }

    func attributes(of inode: UInt64) throws -> FileAttributes { try node(inode).attributes }

    func entries(of inode: UInt64) throws -> [DirectoryEntry] {
        try node(inode).children.sorted { $0.key < $1.key }.map { name, child in
            DirectoryEntry(name: name, inode: child, kind: nodes[child]!.attributes.kind)
        }
    }

    func read(_ inode: UInt64, handle: UInt64, offset: Int, size: Int) throws -> Data {
        let content = try node(inode).content
        guard offset < content.count else { return Data() }
        return content.subdata(in: offset..<min(content.count, offset + size))
    }

    func readlink(_ inode: UInt64) throws -> String { try node(inode).target }

    func extendedAttribute(_ inode: UInt64, name: String) throws -> Data {
        guard let value = try node(inode).xattrs[name] else { throw FUSEError(ENODATA) }
        return value
    }

    func extendedAttributeNames(_ inode: UInt64) throws -> [String] { try node(inode).xattrs.keys.sorted() }
}

/// Mounts `MemoryFilesystem` for the body of a test and unmounts it after, also when the body throws.
private func withMount(allowOther: Bool = false, _ body: (String, MemoryFilesystem) throws -> Void) throws {
    let mountpoint = FileManager.default.temporaryDirectory.appendingPathComponent("fuse-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: mountpoint, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: mountpoint) }
    let filesystem = MemoryFilesystem()
    let mount = try FUSEMount(filesystem, at: mountpoint, options: .init(allowOther: allowOther))
    let finished = DispatchSemaphore(value: 0)
    Thread.detachNewThread {
        try? mount.run(threads: 4)
        finished.signal()
    }
    defer {
        mount.unmount()
        finished.wait()
    }
    try body(mountpoint, filesystem)
}

/// A mount of `MemoryFilesystem` in a new folder (the caller removes it), served on a thread of its own until
/// `run` returns, which signals `finished`.
private func serveOnAThread(handleSignals: Bool) throws -> (String, FUSEMount, DispatchSemaphore) {
    let mountpoint = FileManager.default.temporaryDirectory.appendingPathComponent("fuse-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: mountpoint, withIntermediateDirectories: true)
    do {
        let mount = try FUSEMount(MemoryFilesystem(), at: mountpoint)
        let finished = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            try? mount.run(threads: 4, handleSignals: handleSignals)
            finished.signal()
        }
        return (mountpoint, mount, finished)
    } catch {
        try? FileManager.default.removeItem(atPath: mountpoint)
        throw error
    }
}

@Suite(.serialized) struct FUSETests {
    @Test func listsReadsAndStatsThroughTheKernel() throws {
        try withMount { root, filesystem in
            #expect(try Subprocess.check("ls", ["-A", root]).stdoutText == "hello.txt\nlink\nsecret.key\nsub dir\n")
            #expect(try Subprocess.check("cat", ["\(root)/hello.txt"]).stdoutText == "hello\n")
            #expect(try Subprocess.check("readlink", ["\(root)/link"]).stdoutText == "hello.txt\n")
            #expect(try Subprocess.check("cat", ["\(root)/link"]).stdoutText == "hello\n")
            #expect(try Subprocess.check("stat", ["-c", "%a %u %g %s %Y %F", "\(root)/hello.txt"]).stdoutText
                    == "644 1000 1000 6 1700000000 regular file\n")
            #expect(try Subprocess.check("stat", ["-c", "%a %F", "\(root)/sub dir"]).stdoutText == "750 directory\n")
            let big = try Subprocess.check("cat", ["\(root)/sub dir/big.bin"]).stdout
            #expect(big == filesystem.nodes[5]!.content)
            let middle = try Subprocess.check("dd", ["if=\(root)/sub dir/big.bin", "bs=4096", "skip=300", "count=2", "status=none"]).stdout
            #expect(middle == filesystem.nodes[5]!.content.subdata(in: 300 * 4096..<302 * 4096))
        }
    }

    @Test func servesExtendedAttributes() throws {
        try withMount { root, _ in
            let value = try Subprocess.check("getfattr", ["--only-values", "-n", "user.origin", "\(root)/hello.txt"])
            #expect(value.stdoutText == "lab")
            #expect(try Subprocess.check("getfattr", ["-d", "\(root)/hello.txt"]).stdoutText.contains("user.origin=\"lab\""))
            let missing = try Subprocess.run("getfattr", ["-n", "user.nothing", "\(root)/hello.txt"])
            #expect(missing.status != 0 && missing.stderrText.contains("No such attribute"))
        }
    }

    @Test func refusesEveryWrite() throws {
        try withMount { root, _ in
            for script in ["echo x > '\(root)/hello.txt'", "echo x > '\(root)/new'", "mkdir '\(root)/d'",
                           "rm '\(root)/hello.txt'", "chmod 777 '\(root)/hello.txt'", "touch '\(root)/hello.txt'"] {
                let result = try Subprocess.run("sh", ["-c", script])
                #expect(result.status != 0, "\(script) succeeded")
                #expect(result.stderrText.contains("Read-only file system"), "\(script): \(result.stderrText)")
            }
        }
    }

    @Test func missingNamesAreENOENT() throws {
        try withMount { root, _ in
            let result = try Subprocess.run("stat", ["\(root)/nope"])
            #expect(result.status != 0 && result.stderrText.contains("No such file"))
        }
    }

    @Test func modesAreEnforcedForOtherUsers() throws {
        try withMount(allowOther: true) { root, _ in
            let readable = try Subprocess.run("runuser", ["-u", "nobody", "--", "cat", "\(root)/hello.txt"])
            #expect(readable.status == 0 && readable.stdoutText == "hello\n")
            let secret = try Subprocess.run("runuser", ["-u", "nobody", "--", "cat", "\(root)/secret.key"])
            #expect(secret.status != 0 && secret.stderrText.contains("Permission denied"))
            #expect(try Subprocess.check("cat", ["\(root)/secret.key"]).stdoutText == "key")
        }
    }

    @Test func unmountEndsTheLoopAndLeavesNoMount() throws {
        var mountpoint = ""
        try withMount { root, _ in mountpoint = root }
        let mounts = try String(contentsOfFile: "/proc/mounts", encoding: .utf8)
        #expect(!mounts.contains(mountpoint))
    }

    @Test func aSignalEndsTheLoopAndUnmounts() throws {
        let (mountpoint, mount, finished) = try serveOnAThread(handleSignals: true)
        defer { try? FileManager.default.removeItem(atPath: mountpoint) }
        #expect(try Subprocess.check("cat", ["\(mountpoint)/hello.txt"]).stdoutText == "hello\n")
        // Sent to the process, so any thread may take it; no request follows to wake the loop.
        kill(getpid(), SIGTERM)
        let ended = finished.wait(timeout: .now() + 20) == .success
        if !ended { mount.unmount(); finished.wait() }
        #expect(ended)
        #expect(!(try String(contentsOfFile: "/proc/mounts", encoding: .utf8)).contains(mountpoint))
    }

    /// The root cause of a mount that outlived its unmount: a lazy detach leaves the kernel's connection (and the
    /// loop serving it) alive for as long as anyone holds a file or a working directory in the mount.
    @Test func anUnmountWhileTheMountIsInUseStillEndsTheLoop() throws {
        let (mountpoint, mount, finished) = try serveOnAThread(handleSignals: false)
        defer { try? FileManager.default.removeItem(atPath: mountpoint) }
        let holders = [try Subprocess.start("sh", ["-c", "exec sleep 300 < \"$1\"", "sh", "\(mountpoint)/hello.txt"]),
                       try Subprocess.start("sh", ["-c", "cd \"$1\" && exec sleep 300", "sh", "\(mountpoint)/sub dir"])]
        defer { for holder in holders { holder.signal(SIGKILL); _ = holder.wait() } }
        // Both hold the mount once their sleep runs (its name shows in /proc).
        for holder in holders {
            for _ in 0..<2400 where (try? String(contentsOfFile: "/proc/\(holder.pid)/comm", encoding: .utf8)) != "sleep\n" {
                Thread.sleep(forTimeInterval: 0.05)
            }
        }
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(holders[0].pid)/fd/0") == "\(mountpoint)/hello.txt")
        let lines = Mutex<[String]>([])
        mount.unmount { line in lines.withLock { $0.append(line) } }
        let ended = finished.wait(timeout: .now() + 60) == .success
        #expect(ended, "the loop still serves a detached mount")
        #expect(lines.withLock { $0 }.contains { $0.contains("still in use") })
        #expect(!(try String(contentsOfFile: "/proc/mounts", encoding: .utf8)).contains(mountpoint))
        if !ended { for holder in holders { holder.signal(SIGKILL) }; finished.wait() }
    }

    @Test func mountingOnAMissingDirectoryIsBadInput() {
        do {
            _ = try FUSEMount(MemoryFilesystem(), at: "/nonexistent/valkyrie-mount")
            Issue.record("mounted on a missing directory")
        } catch let error as OperatorError {
            #expect(error.status == .usage && error.problem.contains("/nonexistent/valkyrie-mount"))
        } catch { Issue.record("unexpected \(error)") }
    }
}
