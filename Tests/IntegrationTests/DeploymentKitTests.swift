import Replication
import Daemon
import Foundation
import PGClient
import Testing
#if canImport(Glibc)
    import Glibc
#endif

/// The deployment kit: `config/aws/replicatord.yaml` passes cfn-lint and deploys on moto's
/// CloudFormation with a least-privilege role; `scripts/package-deb` builds a package that installs
/// in a throwaway root (never on this machine's own /), runs as its system user through the README's
/// install steps (local PostgreSQL and moto_server in place of RDS and S3, no systemd as PID 1) and
/// leaves nothing behind when purged.
@Suite(.enabled(if: TestEnvironment.available("REPLICATORD_TEST_PYTHON")))
struct DeploymentKitTests {
    static let template = TestEnvironment.repositoryRoot.appendingPathComponent("config/aws/replicatord.yaml").path

    /// Runs a program on a thread of its own (it may take seconds; the pool has two threads).
    @discardableResult
    func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) async throws -> String {
        try await DedicatedThread.run(name: "test-deploy") { try TestEnvironment.run(executable, arguments, environment: environment) }
    }

    func cfnLint(_ path: String) async throws -> String {
        try await DedicatedThread.run(name: "test-cfn-lint") { try TestEnvironment.helper("cfn-lint", ["--format", "parseable", path]) }
    }

    @Test func theTemplatePassesCfnLintAndALintErrorIsCaught() async throws {
        let clean = try await cfnLint(Self.template)
        #expect(clean.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "\(clean)")

        // The same template with one mistake fails: the linter really reads our file.
        let text = try String(contentsOfFile: Self.template, encoding: .utf8)
        let broken = text.replacingOccurrences(of: "DaysAfterInitiation: 1", with: "DaysAfterInitiation: one")
        #expect(broken != text)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("broken-\(UUID().uuidString.prefix(8)).yaml").path
        try broken.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            let out = try await cfnLint(path)
            Issue.record("cfn-lint accepted DaysAfterInitiation: one: \(out)")
        } catch let failure as TestEnvironment.ProcessFailed {
            #expect(failure.stderr.contains("'one' is not of type 'integer'"), "\(failure)")
        }
    }

    /// Deploys the template on a moto server of its own (the test bed's moto_server checks SigV4 and
    /// IAM, and its key may only do s3:*, so CloudFormation is refused there), reads back what was
    /// made, then gives the stack's S3 policy to an IAM user, turns SigV4/IAM checking on and tries
    /// that user's key inside and outside the prefix. Prints JSON.
    static let motoDeployment = #"""
        import ast, json, socket, sys, urllib.request
        import boto3
        from cfnlint.decode import decode_str
        from moto.server import ThreadedMotoServer

        text, prefix, region = open(sys.argv[1]).read(), sys.argv[2], "eu-west-1"
        facts = {}
        template, errors = decode_str(text)
        assert not errors, errors
        facts["template_bucket"] = json.loads(json.dumps(template["Resources"]["Bucket"]["Properties"], default=str))

        sock = socket.socket(); sock.bind(("127.0.0.1", 0)); port = sock.getsockname()[1]; sock.close()
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        server.start()
        endpoint = f"http://127.0.0.1:{port}"
        def client(service, key="bootstrap", secret="bootstrap"):
            return boto3.client(service, endpoint_url=endpoint, region_name=region,
                                aws_access_key_id=key, aws_secret_access_key=secret)

        cf = client("cloudformation")
        cf.create_stack(StackName="replicatord", TemplateBody=text, Capabilities=["CAPABILITY_IAM"],
                        Parameters=[{"ParameterKey": "Prefix", "ParameterValue": prefix}])
        stack = cf.describe_stacks(StackName="replicatord")["Stacks"][0]
        facts["status"] = stack["StackStatus"]
        facts["outputs"] = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
        facts["resources"] = sorted(r["ResourceType"] for r in cf.list_stack_resources(StackName="replicatord")["StackResourceSummaries"] if r["ResourceType"])

        s3 = client("s3")
        bucket = facts["outputs"]["BucketName"]
        facts["encryption"] = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"]
        def present(call):
            try: getattr(s3, call)(Bucket=bucket); return True
            except s3.exceptions.ClientError: return False
        facts["moto_applied"] = {name: present(call) for name, call in [
            ("PublicAccessBlockConfiguration", "get_public_access_block"), ("LifecycleConfiguration", "get_bucket_lifecycle_configuration"),
            ("OwnershipControls", "get_bucket_ownership_controls"), ("AWS::S3::BucketPolicy", "get_bucket_policy")]}

        iam = client("iam")
        profile = iam.get_instance_profile(InstanceProfileName=facts["outputs"]["InstanceProfileName"])["InstanceProfile"]
        facts["profile_roles"] = [r["Arn"] for r in profile["Roles"]]
        role = iam.get_role(RoleName=facts["outputs"]["RoleArn"].rsplit("/", 1)[1])["Role"]
        trust = role["AssumeRolePolicyDocument"]
        if isinstance(trust, str): trust = json.loads(trust)
        facts["trusted_services"] = [s["Principal"]["Service"] for s in trust["Statement"]]
        policy = iam.get_role_policy(RoleName=role["RoleName"], PolicyName="replicatord-s3-prefix")["PolicyDocument"]
        if isinstance(policy, str):   # moto keeps a CloudFormation inline policy as Python's repr of it
            try: policy = json.loads(policy)
            except ValueError: policy = ast.literal_eval(policy)
        policy["Statement"] = [s for s in policy["Statement"] if s]   # and AWS::NoValue in a list as None
        facts["policy_actions"] = sorted(a for s in policy["Statement"] for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"]))

        rds = client("rds")
        facts["parameter_groups"] = [{"family": g["DBParameterGroupFamily"], "parameters": {
            p["ParameterName"]: p["ParameterValue"] for p in rds.describe_db_parameters(DBParameterGroupName=g["DBParameterGroupName"])["Parameters"]
            if "ParameterValue" in p}} for g in rds.describe_db_parameter_groups()["DBParameterGroups"]]

        iam.create_user(UserName="daemon")
        iam.put_user_policy(UserName="daemon", PolicyName="replicatord-s3-prefix", PolicyDocument=json.dumps(policy))
        key = iam.create_access_key(UserName="daemon")["AccessKey"]
        urllib.request.urlopen(urllib.request.Request(endpoint + "/moto-api/reset-auth", data=b"0",
                               headers={"Content-Type": "text/plain"}, method="POST"))
        daemon = client("s3", key["AccessKeyId"], key["SecretAccessKey"])
        def allowed(call, **kw):
            try: call(Bucket=bucket, **kw); return True
            except daemon.exceptions.ClientError as e:
                if e.response["Error"]["Code"] == "AccessDenied": return False
                raise
        inside = prefix + "/public/orders/LOAD00000001.parquet"
        facts["access"] = {
            "put_inside": allowed(daemon.put_object, Key=inside, Body=b"PAR1"),
            "get_inside": allowed(daemon.get_object, Key=inside),
            "delete_inside": allowed(daemon.delete_object, Key=inside),
            "multipart_inside": allowed(lambda **kw: daemon.abort_multipart_upload(
                UploadId=daemon.create_multipart_upload(**kw)["UploadId"], **kw), Key=inside),
            "put_outside": allowed(daemon.put_object, Key="elsewhere/x", Body=b"x"),
            "put_next_to_prefix": allowed(daemon.put_object, Key=prefix + "-other/x", Body=b"x"),
            "get_outside": allowed(daemon.get_object, Key="elsewhere/x"),
            "delete_bucket": allowed(daemon.delete_bucket),
        }
        server.stop()
        print(json.dumps(facts, sort_keys=True))
        """#

    @Test func theTemplateDeploysOnMotoWithALeastPrivilegeRoleAndOutputsTheDaemonReads() async throws {
        let python = try TestEnvironment.require("REPLICATORD_TEST_PYTHON")
        let script = FileManager.default.temporaryDirectory.appendingPathComponent("cfn-\(UUID().uuidString.prefix(8)).py").path
        try Self.motoDeployment.write(toFile: script, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: script) }
        let out = try await run(python, [script, Self.template, "replica/prod"])
        let facts = try #require(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any], "\(out)")

        #expect(facts["status"] as? String == "CREATE_COMPLETE")
        let outputs = facts["outputs"] as? [String: String] ?? [:]
        let bucket = try #require(outputs["BucketName"], "\(facts)")
        #expect(outputs["TargetUrl"] == "s3://\(bucket)/replica/prod")
        #expect(outputs["TargetRegion"] == "eu-west-1")
        #expect(outputs["TargetServerSideEncryption"] == "AES256")
        #expect(facts["encryption"] as? String == "AES256")
        #expect(facts["profile_roles"] as? [String] == [outputs["RoleArn"] ?? "?"])
        #expect(facts["trusted_services"] as? [String] == ["ec2.amazonaws.com"])
        #expect(
            facts["policy_actions"] as? [String] == [
                "s3:AbortMultipartUpload", "s3:DeleteObject", "s3:GetObject", "s3:ListBucket", "s3:ListBucketMultipartUploads",
                "s3:ListMultipartUploadParts", "s3:PutObject",
            ])
        let groups = facts["parameter_groups"] as? [[String: Any]] ?? []
        #expect(groups.count == 1)
        #expect(groups.first?["family"] as? String == "postgres15")
        #expect((groups.first?["parameters"] as? [String: String])?["rds.logical_replication"] == "1")

        // The role may do what the daemon does under its prefix and nothing else. (moto does not
        // evaluate the s3:prefix condition of ListBucket, so listings are not tried here.)
        let access = facts["access"] as? [String: Bool] ?? [:]
        for allowed in ["put_inside", "get_inside", "delete_inside", "multipart_inside"] { #expect(access[allowed] == true, "\(allowed): \(access)") }
        for refused in ["put_outside", "put_next_to_prefix", "get_outside", "delete_bucket"] { #expect(access[refused] == false, "\(refused): \(access)") }

        // What moto's CloudFormation leaves out is checked in the template itself.
        let properties = facts["template_bucket"] as? [String: Any] ?? [:]
        let block = properties["PublicAccessBlockConfiguration"] as? [String: Bool] ?? [:]
        #expect(block == ["BlockPublicAcls": true, "BlockPublicPolicy": true, "IgnorePublicAcls": true, "RestrictPublicBuckets": true])
        let rules = (properties["LifecycleConfiguration"] as? [String: Any])?["Rules"] as? [[String: Any]] ?? []
        #expect(
            rules.contains { ($0["AbortIncompleteMultipartUpload"] as? [String: Int])?["DaysAfterInitiation"] == 1 && $0["Status"] as? String == "Enabled" })
        print("moto's CloudFormation applied: \(facts["moto_applied"] ?? "?")")

        // The outputs are values of the daemon's config keys: a config made of them validates.
        let config = script + ".toml"
        try """
        [source]
        conninfo = "host=db.example.com dbname=app user=replicator"
        [target]
        url = "\(outputs["TargetUrl"] ?? "")"
        region = "\(outputs["TargetRegion"] ?? "")"
        server_side_encryption = "\(outputs["TargetServerSideEncryption"] ?? "")"
        """.write(toFile: config, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: config) }
        let validated = try await run(CrashRecoveryIntegrationTests.binary, ["validate", "--config", config])
        #expect(validated.contains("s3://\(bucket)/replica/prod"), "\(validated)")
    }
}

/// `config/source-setup.sql` against `replicatord check`: a role that may replicate but not read a
/// published table is reported, with a pointer to the script; running the script fixes it.
@Suite(.enabled(if: TestEnvironment.available("REPLICATORD_TEST_PG")))
struct DeploymentKitSourceSetupTests {
    @Test func checkNamesTheTableTheRoleCannotReadAndSourceSetupGrantsIt() async throws {
        let kit = DeploymentKitTests()
        try await withPostgres("deploy_setup") { db in
            let role = "rd_setup_\(UInt32.random(in: 0...UInt32.max))"
            defer {
                db.drop()
                if let admin = try? PGConnection(conninfo: (try? TestEnvironment.require("REPLICATORD_TEST_PG")) ?? "") {
                    _ = try? admin.query("DROP ROLE IF EXISTS \(PGConnection.quoteIdentifier(role))")
                }
            }
            try db.execute(
                """
                CREATE SCHEMA sales;
                CREATE TABLE public.orders (id bigint PRIMARY KEY, status text);
                CREATE TABLE sales.invoices (id bigint PRIMARY KEY, total numeric(12,2));
                CREATE TABLE public.events (at timestamptz, what text);
                CREATE PUBLICATION replicatord FOR TABLE public.orders, sales.invoices, public.events;
                CREATE ROLE \(role) WITH LOGIN REPLICATION;
                GRANT SELECT ON public.orders TO \(role);
                """)
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rd-setup-\(UUID().uuidString.prefix(8))").path
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let config = dir + "/replicatord.toml"
            try TestEnvironment.writeConfig(
                to: config, conninfo: "\(db.conninfo) user=\(role)", slot: db.database,
                target: "url = \"file://\(dir)/out\"", spoolDir: "\(dir)/spool")

            do {
                let out = try await kit.run(CrashRecoveryIntegrationTests.binary, ["check", "--config", config])
                Issue.record("check passed although the role may not read sales.invoices: \(out)")
            } catch let failure as TestEnvironment.ProcessFailed {
                let problem = failure.stderr.split(separator: "\n").first { $0.hasPrefix("problem: role \(role) may not read") }.map(String.init) ?? ""
                #expect(problem.contains("sales.invoices") && !problem.contains("public.orders"), "\(failure.stderr)")
                #expect(problem.contains("source-setup.sql") && problem.contains("/usr/share/doc/replicatord/"), "\(problem)")
            }

            // The script, run as the DBA would (a second time changes nothing), grants what is missing
            // and lists the table without a key that needs REPLICA IDENTITY FULL.
            let script = TestEnvironment.repositoryRoot.appendingPathComponent("config/source-setup.sql").path
            var output = ""
            for _ in 0..<2 {
                output = try await kit.run("/usr/bin/psql", ["-X", "-d", db.conninfo, "-v", "role=\(role)", "-f", script])
            }
            #expect(output.contains("public.events"), "\(output)")
            #expect(!output.contains(" f\n") && !output.contains("| f "), "a check says false: \(output)")
            let checked = try await kit.run(CrashRecoveryIntegrationTests.binary, ["check", "--config", config])
            #expect(checked.contains("ok: ready to replicate"), "\(checked)")
        }
    }
}

/// The Debian package, installed in a throwaway root (`scripts/throwaway-root`: a copy-on-write
/// overlay of this machine's / whose writes go to a tmpfs; the host's packages and users are never
/// touched), used as the README's "Install on a VM" says, then removed and purged.
@Suite(
    .enabled(
        if: getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/dpkg-deb")
            && TestEnvironment.available("REPLICATORD_TEST_PG", "REPLICATORD_TEST_S3_ENDPOINT", "REPLICATORD_TEST_PYTHON")))
struct DeploymentKitPackageTests {
    let kit = DeploymentKitTests()
    static let script = TestEnvironment.repositoryRoot.appendingPathComponent("scripts/throwaway-root").path
    let root = "/var/tmp/replicatord-root.deb-\(UUID().uuidString.prefix(8))"

    /// Runs a program inside the throwaway root (as root there).
    @discardableResult
    func inRoot(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) async throws -> String {
        try await kit.run(Self.script, ["run", root, executable] + arguments, environment: environment)
    }

    func exists(_ path: String) async -> Bool {
        (try? await inRoot("/bin/sh", ["-c", "test -e \"$1\" || test -L \"$1\"", "exists", path])) != nil
    }

    func contents(_ path: String) async throws -> String { try await inRoot("/bin/cat", [path]) }

    /// `curl` as the README does: status and body, nil when nothing answers.
    func health(_ url: String) async -> (status: Int, body: String)? {
        guard let out = try? await kit.run("/usr/bin/curl", ["-s", "--max-time", "5", "-w", "\n%{http_code}", url]),
            let newline = out.lastIndex(of: "\n"), let status = Int(out[out.index(after: newline)...])
        else { return nil }
        return (status, String(out[..<newline]))
    }

    /// Files under `dir` (recursively) whose path names replicatord.
    func leftovers(_ dir: String) async throws -> [String] {
        guard await exists(dir) else { return [] }
        return try await inRoot("/usr/bin/find", [dir, "-name", "*replicatord*"]).split(separator: "\n").map(String.init)
    }

    /// apt-get as the test runs it, in the root (the package's dependencies are this
    /// machine's), non-interactive.
    func aptGet(_ arguments: [String]) async throws {
        try await inRoot(
            "/usr/bin/apt-get", ["-y", "-q"] + arguments,
            environment: ["DEBIAN_FRONTEND": "noninteractive"])
    }

    @Test func thePackageInstallsRunsAsItsUserAndPurgesWithoutATrace() async throws {
        let python = try TestEnvironment.require("REPLICATORD_TEST_PYTHON")
        let endpoint = try TestEnvironment.require("REPLICATORD_TEST_S3_ENDPOINT")
        try await kit.run(Self.script, ["create", root])
        defer { _ = try? TestEnvironment.run(Self.script, ["destroy", root]) }
        let work = "/var/tmp/rd-deb-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }

        // The package, from the debug binary the tests already built (the release build takes
        // minutes; scripts/package-deb without --binary makes that one).
        let started = Date()
        let built = try await kit.run(
            "/bin/bash",
            [
                TestEnvironment.repositoryRoot.path + "/scripts/package-deb",
                "--binary", CrashRecoveryIntegrationTests.binary, "--output", work, "--compression", "zstd",
            ])
        let arch = try await kit.run("/usr/bin/dpkg", ["--print-architecture"]).trimmingCharacters(in: .whitespacesAndNewlines)
        let deb = work + "/replicatord_\(BuildInfo.version)_\(arch).deb"
        #expect(built.trimmingCharacters(in: .whitespacesAndNewlines) == deb)
        let info = try await kit.run("/usr/bin/dpkg-deb", ["--info", deb])
        #expect(info.contains("Package: replicatord") && info.contains("Version: \(BuildInfo.version)"), "\(info)")
        #expect(info.contains("libpq5") && info.contains("adduser"), "Depends: \(info)")
        print("package built in \(Int(Date().timeIntervalSince(started))) s: \(deb)")

        // apt-get install ./replicatord_VERSION_ARCH.deb: the whole install, in the throwaway root.
        try await aptGet(["install", deb])
        for path in [
            "/usr/bin/replicatord", "/lib/systemd/system/replicatord.service", "/lib/systemd/system/replicatord@.service",
            "/etc/replicatord/replicatord.toml", "/usr/share/doc/replicatord/source-setup.sql",
            "/usr/share/doc/replicatord/aws/replicatord.yaml",
        ] {
            #expect(await exists(path), "\(path) was not installed")
        }
        let conffiles = try await inRoot("/usr/bin/dpkg-query", ["-W", "-f=${Conffiles}", "replicatord"])
        #expect(conffiles.contains("/etc/replicatord/replicatord.toml"))
        let user = try await inRoot("/usr/bin/getent", ["passwd", "replicatord"]).trimmingCharacters(in: .whitespacesAndNewlines)
            .split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        #expect(user.count == 7 && (Int(user[2]) ?? 1000) < 1000, "not a system user: \(user)")
        #expect(user.last?.hasSuffix("nologin") == true)
        let state = try await inRoot("/usr/bin/stat", ["-c", "%U %a", "/var/lib/replicatord"])
        #expect(state.trimmingCharacters(in: .whitespacesAndNewlines) == "replicatord 700", "\(state)")
        let version = try await inRoot("/usr/sbin/runuser", ["-u", "replicatord", "--", "/usr/bin/replicatord", "--version"])
        #expect(version.trimmingCharacters(in: .whitespacesAndNewlines) == BuildInfo.version)
        let unit = try await contents("/lib/systemd/system/replicatord.service")
        #expect(unit.contains("ExecStart=/usr/bin/replicatord --config") && unit.contains("\nUser=replicatord\n"))
        if FileManager.default.isExecutableFile(atPath: ServiceUnitFileTests.analyze) {
            let rating = try await inRoot(ServiceUnitFileTests.analyze, ["security", "--offline=true", "/lib/systemd/system/replicatord.service"])
            let line = rating.split(separator: "\n").last { $0.contains("Overall exposure level") }.map(String.init) ?? ""
            #expect((line.split(separator: " ").compactMap { Double($0) }.first ?? 10) < 2.0, "\(line)")
        }

        // `systemctl enable` works without systemd as PID 1 (it only makes the links); `--now` would
        // then start it, which here the test does by hand below.
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/systemctl") {
            try await inRoot("/usr/bin/systemctl", ["enable", "replicatord"])
            #expect(await exists("/etc/systemd/system/multi-user.target.wants/replicatord.service"))
        }

        // The source, set up with the installed source-setup.sql: its role is the one the daemon uses.
        try await withPostgres("deploy_kit") { db in
            let role = "rd_deploy_\(UInt32.random(in: 0...UInt32.max))"
            defer {
                db.drop()
                if let admin = try? PGConnection(conninfo: (try? TestEnvironment.require("REPLICATORD_TEST_PG")) ?? "") {
                    _ = try? admin.query("DROP ROLE IF EXISTS \(PGConnection.quoteIdentifier(role))")
                }
            }
            try db.execute(
                """
                CREATE TABLE public.orders (id bigint PRIMARY KEY, status text NOT NULL, amount numeric(12,2));
                INSERT INTO public.orders SELECT g, 'new', g * 1.5 FROM generate_series(1, 500) g;
                """)
            let setup = try await inRoot(
                "/usr/bin/psql", ["-X", "-q", "-d", db.conninfo, "-v", "role=\(role)", "-f", "/usr/share/doc/replicatord/source-setup.sql"])
            #expect(!setup.contains("ERROR"), "\(setup)")
            let granted = try db.connect().query(
                """
                SELECT rolreplication, rolcanlogin, has_table_privilege($1, 'public.orders', 'SELECT'),
                       (SELECT count(*) FROM pg_publication_tables WHERE pubname = 'replicatord')
                FROM pg_roles WHERE rolname = $1
                """, [role]
            ).rows
            #expect(granted.first == ["t", "t", "t", "1"], "\(granted)")

            // The bucket (the CloudFormation stack's, on AWS), the credentials and the config, as the README says.
            let bucket = "deploy-kit-\(UInt32.random(in: 0...UInt32.max))"
            try TestEnvironment.helper("create-bucket", [endpoint, bucket])
            let environment = ProcessInfo.processInfo.environment
            let keyID = try #require(environment["AWS_ACCESS_KEY_ID"]), secret = try #require(environment["AWS_SECRET_ACCESS_KEY"])
            try "[default]\naws_access_key_id = \(keyID)\naws_secret_access_key = \(secret)\n"
                .write(toFile: work + "/aws-credentials", atomically: true, encoding: .utf8)
            try "*:*:*:\(role):unused-with-trust\n".write(toFile: work + "/pgpass", atomically: true, encoding: .utf8)
            for name in ["aws-credentials", "pgpass"] {
                try await inRoot("/usr/bin/install", ["-m", "0600", work + "/" + name, "/etc/replicatord/" + name])
            }
            let port = try TestEnvironment.helper("free-port", [])
                .trimmingCharacters(in: .whitespacesAndNewlines)
            let example = try await contents("/etc/replicatord/replicatord.toml")
            var edited: [String] = []
            var replaced = Set<String>()
            var section = ""
            for line in example.split(separator: "\n", omittingEmptySubsequences: false) {
                let trimmed = line.trimmingCharacters(in: .whitespaces)
                if trimmed.hasPrefix("[") { section = String(trimmed.prefix { $0 != "]" }.dropFirst()) }
                let key = line.split(separator: "=").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
                // Each key in its own section only (`interval_seconds` is also [cloudwatch]'s, say).
                let value: String? =
                    switch (section, key) {
                    case ("source", "conninfo"): "\"\(db.conninfo) user=\(role)\""
                    case ("source", "slot"): "\"\(db.database)\""
                    case ("target", "url"): "\"s3://\(bucket)/replica\""
                    case ("target", "endpoint"): "\"\(endpoint)\""
                    case ("target", "path_style"): "true"
                    case ("schedule", "interval_seconds"): "3"
                    case ("health", "listen"): "\"127.0.0.1:\(port)\""
                    default: nil
                    }
                if let value { edited.append("\(key) = \(value)"); replaced.insert(key) } else { edited.append(String(line)) }
            }
            #expect(replaced.count == 7, "the example config lacks a key: \(replaced)")
            try edited.joined(separator: "\n").write(toFile: work + "/replicatord.toml", atomically: true, encoding: .utf8)
            try await inRoot("/usr/bin/install", ["-m", "0644", work + "/replicatord.toml", "/etc/replicatord/replicatord.toml"])

            // systemd's LoadCredential= without systemd: the secrets copied into a directory only the
            // service user reads, named by the variables the unit sets; nothing else in the environment.
            let credentials = work + "/credentials"
            try FileManager.default.createDirectory(atPath: credentials, withIntermediateDirectories: true)
            for name in ["aws-credentials", "pgpass"] {
                try await inRoot("/usr/bin/install", ["-m", "0400", "-o", "replicatord", "/etc/replicatord/" + name, credentials + "/" + name])
            }
            try await inRoot("/bin/chmod", ["0755", work])
            try await inRoot("/bin/chmod", ["0500", credentials])
            try await inRoot("/bin/chown", ["replicatord", credentials])
            let serviceEnvironment = [
                "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/var/lib/replicatord", "LANG=C.UTF-8",
                "PGPASSFILE=\(credentials)/pgpass", "AWS_SHARED_CREDENTIALS_FILE=\(credentials)/aws-credentials",
            ]
            let config = "/etc/replicatord/replicatord.toml"

            let check = try await inRoot(
                "/usr/sbin/runuser",
                ["-u", "replicatord", "--", "/usr/bin/env", "-i"] + serviceEnvironment
                    + ["/usr/bin/replicatord", "check", "--config", config])
            #expect(check.contains("ok: ready to replicate"), "\(check)")

            // The service: as the unit runs it (its user, its state directory as working directory).
            // setpriv execs the daemon (and throwaway-root execs all the way down to it), so SIGTERM
            // reaches it as systemd's would; runuser would stand between.
            let daemon = Process()
            daemon.executableURL = URL(fileURLWithPath: Self.script)
            daemon.arguments =
                ["run", root, "/usr/bin/env", "-i", "--chdir=/var/lib/replicatord"] + serviceEnvironment + [
                    "/usr/bin/setpriv", "--reuid=replicatord", "--regid=replicatord", "--init-groups",
                    "--", "/usr/bin/replicatord", "--config", config,
                ]
            let logPath = work + "/daemon.log"
            #expect(FileManager.default.createFile(atPath: logPath, contents: nil))
            daemon.standardError = FileHandle(forWritingAtPath: logPath)
            daemon.standardOutput = FileHandle(forWritingAtPath: logPath)
            try daemon.run()
            defer { if daemon.isRunning { kill(daemon.processIdentifier, SIGKILL) } }
            func log() -> String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }
            let base = "http://127.0.0.1:\(port)"

            var healthy = false
            for _ in 0..<300 where !healthy {
                if let answer = await health(base + "/health"), answer.status == 200,
                    (try? JSONSerialization.jsonObject(with: Data(answer.body.utf8)) as? [String: Any])?["phase"] as? String == "cdc"
                {
                    healthy = true
                } else {
                    try await Task.sleep(for: .milliseconds(300))
                }
            }
            try #require(healthy, "/health never answered 200 in the cdc phase: \(log())")
            let status = try String(contentsOfFile: "/proc/\(daemon.processIdentifier)/status", encoding: .utf8)
            let uid = status.split(separator: "\n").first { $0.hasPrefix("Uid:") }?.split(separator: "\t").dropFirst().first.map(String.init)
            #expect(uid == user[2], "the daemon runs as uid \(uid ?? "?"), not replicatord's \(user[2])")

            // A change arrives as a CDC file in the bucket.
            try db.execute("UPDATE public.orders SET status = 'paid' WHERE id <= 10")
            // (A prefix without "/": moto_server checks the signature over a re-encoded "/" and refuses it.)
            var keys: [String] = []
            for _ in 0..<100 {
                keys = try await kit.run(
                    python,
                    [
                        TestEnvironment.repositoryRoot.appendingPathComponent("scripts/test_helpers.py").path,
                        "list-keys", endpoint, bucket, "replica",
                    ]
                ).split(separator: "\n").map(String.init)
                if keys.contains(where: { $0.hasPrefix("replica/public/orders/2") }) { break }
                try await Task.sleep(for: .milliseconds(300))
            }
            #expect(keys.contains("replica/public/orders/LOAD00000001.parquet"), "\(keys)")
            #expect(keys.contains { $0.hasPrefix("replica/public/orders/2") && $0.hasSuffix(".parquet") }, "no CDC file: \(keys) \(log())")

            kill(daemon.processIdentifier, SIGTERM)
            let stopBy = Date().addingTimeInterval(60)
            while daemon.isRunning, Date() < stopBy { try await Task.sleep(for: .milliseconds(100)) }
            #expect(!daemon.isRunning && daemon.terminationStatus == 0, "SIGTERM: \(log())")

            // An upgrade (the same package again) keeps the edited config and the user.
            try await aptGet(["install", "--reinstall", deb])
            #expect(try await contents(config).contains("s3://\(bucket)/replica"))
            let userAgain = try await inRoot("/usr/bin/getent", ["passwd", "replicatord"])
            #expect(userAgain.split(separator: ":").dropFirst(2).first.map(String.init) == user[2])

            // Operate: retire the daemon's slot, then remove and purge.
            let dropped = try await inRoot(
                "/usr/sbin/runuser",
                ["-u", "replicatord", "--", "/usr/bin/env", "-i"] + serviceEnvironment
                    + ["/usr/bin/replicatord", "drop-slot", "--config", config])
            #expect(dropped.contains("dropped"), "\(dropped)")
            #expect(try db.connect().query("SELECT 1 FROM pg_replication_slots WHERE slot_name = $1", [db.database]).rows.isEmpty)

            try await aptGet(["remove", "replicatord"])
            #expect(await !exists("/usr/bin/replicatord"))
            #expect(await !exists("/lib/systemd/system/replicatord.service"))
            #expect(await exists(config), "remove must keep the config")
            let removed = try await inRoot("/usr/bin/dpkg-query", ["-W", "-f=${Status}", "replicatord"])
            #expect(removed.contains("config-files"), "\(removed)")

            try await aptGet(["purge", "replicatord"])
            #expect((try? await inRoot("/usr/bin/dpkg-query", ["-W", "-f=${Status}", "replicatord"])) == nil, "dpkg still knows the package")
            for path in ["/etc/replicatord", "/usr/share/doc/replicatord", "/usr/bin/replicatord"] {
                #expect(await !exists(path), "\(path) is left after purge")
            }
            // /var/lib/replicatord is gone, or holds only what root made there (the host's, seen below the
            // overlay: other tests of this suite run the daemon as root with the default spool_dir).
            if await exists("/var/lib/replicatord") {
                let owned = try await inRoot("/usr/bin/find", ["/var/lib/replicatord", "-uid", user[2]])
                #expect(owned.isEmpty, "files of the purged user are left: \(owned)")
            }
            #expect((try? await inRoot("/usr/bin/getent", ["passwd", "replicatord"])) == nil, "the user is left after purge")
            #expect((try? await inRoot("/usr/bin/getent", ["group", "replicatord"])) == nil, "the group is left after purge")
            var left: [String] = []
            for dir in [
                "/etc/systemd/system", "/lib/systemd/system", "/var/lib/systemd/deb-systemd-helper-enabled",
                "/var/lib/systemd/deb-systemd-helper-masked",
            ] {
                left += try await leftovers(dir)
            }
            #expect(left.isEmpty, "left after purge: \(left)")
        }
    }
}
