/**
 * A client in another language, built from protocol/proto/tandem.proto with
 * an independent toolchain, talks to a real coordinator over mTLS. The
 * toolchain is Debian's: protoc 3.21 (protobuf-compiler) writes the Python
 * messages and a descriptor set; python3-grpc-tools (1.14, whose bundled
 * protoc 3.5 cannot parse proto3 `optional`) writes the service stubs from
 * that descriptor set; python3-grpcio and python3-protobuf run them. The
 * README's recipe is this one.
 *
 * The client uses the coordinator's admin service (SubmitJob, ListJobs)
 * with the admin certificate, and a party's certificate to check that the
 * coordinator's authorisation holds for it too. (The scoring endpoint's
 * caller rules were being reworked when this was written; the admin service
 * exercises the same proto, TLS and metadata.)
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFederation, type Federation } from '../support/federation.ts';

const PYTHON = '/usr/bin/python3';
const PROTOC = '/usr/bin/protoc';
const PROTO_DIR = join(import.meta.dirname, '..', '..', 'protocol', 'proto');

/** Why the toolchain is unusable here, or undefined. */
function missingToolchain(): string | undefined {
  try {
    execFileSync(PYTHON, ['-c', 'import grpc, grpc_tools.protoc, google.protobuf'], { stdio: 'pipe' });
  } catch {
    return `${PYTHON} lacks grpc, grpc_tools or google.protobuf (Debian: apt-get install python3-grpcio python3-grpc-tools python3-protobuf)`;
  }
  try {
    const version = execFileSync(PROTOC, ['--version'], { encoding: 'utf8' });
    const [major = 0, minor = 0] = (/(\d+)\.(\d+)/.exec(version) ?? []).slice(1).map(Number);
    if (major < 3 || (major === 3 && minor < 15))
      return `${PROTOC} is ${version.trim()}; proto3 optional needs 3.15 or newer`;
  } catch {
    return `${PROTOC} is missing (Debian: apt-get install protobuf-compiler)`;
  }
  return undefined;
}

const missing = missingToolchain();
if (missing !== undefined) console.warn(`python-client e2e skipped: ${missing}`);

const CLIENT = `
import json, sys, grpc
import tandem_pb2, tandem_pb2_grpc

address, ca, cert, key, action = sys.argv[1:6]
read = lambda p: open(p, 'rb').read()
credentials = grpc.ssl_channel_credentials(root_certificates=read(ca), private_key=read(key), certificate_chain=read(cert))
channel = grpc.secure_channel(address, credentials, options=[('grpc.ssl_target_name_override', 'coordinator')])
stub = tandem_pb2_grpc.CoordinatorStub(channel)
try:
    if action == 'submit':
        status = stub.SubmitJob(tandem_pb2.SubmitJobRequest(spec_yaml=sys.stdin.read(), spec_file='job.yaml'), timeout=20)
        out = {'job_id': status.job_id, 'name': status.name, 'kind': status.kind, 'parties': list(status.parties)}
    else:
        jobs = stub.ListJobs(tandem_pb2.ListJobsRequest(limit=10), timeout=20).jobs
        out = {'jobs': [{'job_id': j.job_id, 'name': j.name, 'kind': j.kind, 'stage': j.stage} for j in jobs]}
except grpc.RpcError as e:
    codes = dict(e.trailing_metadata() or ())
    out = {'error': e.code().name, 'tandem_error_code': codes.get('tandem-error-code')}
print(json.dumps(out))
`;

describe.skipIf(missing !== undefined)(
  "a Python client generated from tandem.proto with Debian's protoc and python3-grpc-tools",
  () => {
    let fed: Federation;
    let out: string;

    beforeAll(async () => {
      fed = await startFederation({ parties: [], idle: ['brand', 'partner'] });
      out = join(fed.dir, 'python');
      await mkdir(out);
      // Messages and a descriptor set from protoc 3.21; stubs from grpc_tools, reading the descriptor set (its own protoc is 3.5).
      execFileSync(PROTOC, [
        `-I${PROTO_DIR}`,
        `--python_out=${out}`,
        '--include_imports',
        `--descriptor_set_out=${join(out, 'tandem.pb')}`,
        join(PROTO_DIR, 'tandem.proto'),
      ]);
      execFileSync(PYTHON, [
        '-c',
        `import sys; from grpc_tools import protoc; sys.exit(protoc.main(['protoc', '--descriptor_set_in=${join(out, 'tandem.pb')}', '--grpc_python_out=${out}', 'tandem.proto']))`,
      ]);
      await writeFile(join(out, 'client.py'), CLIENT);
    });
    afterAll(async () => {
      await fed.close();
    });

    function python(as: string, action: 'submit' | 'list', stdin = ''): Promise<Record<string, unknown>> {
      const c = fed.certs(as);
      return new Promise((resolve, reject) => {
        const child = execFile(
          PYTHON,
          [join(out, 'client.py'), fed.address, c.ca, c.cert, c.key, action],
          { cwd: out, timeout: 30_000 },
          (error, stdout, stderr) => {
            if (error !== null) reject(new Error(`client.py failed: ${stderr}`, { cause: error }));
            else resolve(JSON.parse(stdout) as Record<string, unknown>);
          },
        );
        child.stdin?.end(stdin);
      });
    }

    it('generated the message and service modules', () => {
      const listing = execFileSync('ls', [out], { encoding: 'utf8' }).split('\n');

      expect(listing).toEqual(expect.arrayContaining(['tandem_pb2.py', 'tandem_pb2_grpc.py']));
    });

    it("submits a job over mTLS with the admin certificate, and lists it as the Tandem CLI's client sees it", async () => {
      const spec =
        'name: reach-from-python\nkind: reach\nseed: 1\nparties:\n  - { name: brand, role: guest, dataset: ids }\n  - { name: partner, role: host, dataset: ids }\n';

      const submitted = await python('admin', 'submit', spec);
      const listed = await python('admin', 'list');
      const admin = await fed.admin();
      const seen = await admin.get(String(submitted['job_id'])).finally(() => admin.close());

      expect(submitted).toMatchObject({ name: 'reach-from-python', kind: 'reach', parties: ['brand', 'partner'] });
      expect(submitted['job_id']).toMatch(/\S/);
      expect(listed['jobs']).toEqual([
        expect.objectContaining({
          job_id: submitted['job_id'],
          name: 'reach-from-python',
          kind: 'reach',
          stage: seen.stage,
        }),
      ]);
    });

    it("may list but not submit with a party's certificate, and gets the catalogued code in the trailers", async () => {
      const listed = await python('brand', 'list');
      const refused = await python(
        'brand',
        'submit',
        'name: x\nkind: reach\nparties:\n  - { name: brand, role: guest, dataset: ids }\n  - { name: partner, role: host, dataset: ids }\n',
      );

      expect(listed['jobs']).toHaveLength(1);
      expect(refused).toEqual({ error: 'PERMISSION_DENIED', tandem_error_code: 'AUTH_NOT_ALLOWED' });
    });
  },
);
