/**
 * The Dockerfile without a container engine (none runs on our machines): its instructions read
 * and carried out in a Debian root file system made with debootstrap, as `docker build` would,
 * and the entrypoint started as `docker run` would: its own PID namespace (the entrypoint is PID
 * 1), the image's user, environment and working directory, `HOSTNAME` set to a container id, and
 * the volume's directory as the build left it. What this does not give: a network namespace (the
 * service binds the host's loopback, on a port the test picks), cgroup limits, a read-only layer
 * under the volume, and the engine's own handling of HEALTHCHECK and STOPSIGNAL (the test runs
 * the check and sends the signal itself).
 */

import { notInstalled } from "./_test_utils.ts";

/** One Dockerfile instruction: its keyword and its arguments as written. */
export interface Instruction {
  readonly keyword: string;
  readonly args: string;
}

/** What the image is once built: the settings `docker run` applies. */
export interface Image {
  readonly rootfs: string;
  readonly workdir: string;
  readonly env: Readonly<Record<string, string>>;
  readonly user: string;
  readonly volumes: readonly string[];
  readonly healthcheck: readonly string[];
  readonly entrypoint: readonly string[];
  readonly stopSignal: string;
}

const PROJECT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const BASE = "debian:bookworm-slim";
/** The debootstrap of the base, kept between runs on one machine (root's cache). */
const BASE_CACHE = "/var/cache/okta-import-hook-tests/bookworm-minbase.tar";
const MIRROR = Deno.env.get("DEBIAN_MIRROR") ?? "http://deb.debian.org/debian";
/** Docker's PATH for a Debian image. */
const DOCKER_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** The Dockerfile's instructions, continuation lines joined and comments left out. */
export function parseDockerfile(text: string): Instruction[] {
  const joined = text.replace(/\\\n/g, " ");
  return joined.split("\n").map((line) => line.trim()).filter((line) =>
    line !== "" && !line.startsWith("#")
  ).map((line) => {
    const space = line.search(/\s/);
    return { keyword: line.slice(0, space).toUpperCase(), args: line.slice(space + 1).trim() };
  });
}

/** Runs a bash script as root; its stdout. Fails with its stderr. */
async function sh(script: string, env: Record<string, string> = {}): Promise<string> {
  const output = await new Deno.Command("bash", {
    args: ["-c", `set -euo pipefail\n${script}`],
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(output.stderr);
  if (output.code !== 0) throw new Error(`bash failed (${output.code}): ${script}\n${stderr}`);
  return new TextDecoder().decode(output.stdout);
}

/** `'text'` for bash. */
export function quote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

/** The command that runs `argv` inside the image as `docker run` or `docker exec` would. */
export function inImage(
  image: Image,
  argv: readonly string[],
  options: { readonly user?: string; readonly pidNamespace?: boolean } = {},
): string[] {
  const user = options.user ?? image.user;
  const [uid, gid] = user === "root" ? ["0", "0"] : idsOf(image, user);
  const inner = `cd ${quote(image.workdir)} && exec "$@"`;
  const chroot = [
    "chroot",
    image.rootfs,
    "setpriv",
    `--reuid=${uid}`,
    `--regid=${gid}`,
    "--clear-groups",
    "sh",
    "-c",
    inner,
    "sh",
    ...argv,
  ];
  return options.pidNamespace
    ? ["unshare", "--pid", "--fork", "--mount", `--mount-proc=${image.rootfs}/proc`, ...chroot]
    : chroot;
}

/** The uid and gid of `user` in the image's /etc/passwd. */
function idsOf(image: Image, user: string): [string, string] {
  const passwd = Deno.readTextFileSync(`${image.rootfs}/etc/passwd`);
  const entry = passwd.split("\n").find((line) => line.startsWith(`${user}:`));
  if (entry === undefined) throw new Error(`The image has no user ${user}`);
  const [, , uid, gid] = entry.split(":");
  return [uid!, gid!];
}

/** The environment `docker run -e ...` gives the process: the image's, Docker's, and `extra`. */
export function runEnv(image: Image, extra: Record<string, string>): Record<string, string> {
  return {
    PATH: DOCKER_PATH,
    // Docker sets HOSTNAME to the container's id: the service must not bind to it.
    HOSTNAME: "3f2a9c1b7d4e",
    HOME: "/nonexistent",
    ...image.env,
    ...extra,
  };
}

/**
 * Builds the image into a new directory: the base from debootstrap (cached), then each
 * instruction of the Dockerfile, refusing any this does not carry out. Runs as root.
 */
export async function buildImage(): Promise<Image> {
  for (const tool of ["debootstrap", "unshare", "chroot"]) {
    const found = await new Deno.Command("sh", { args: ["-c", `command -v ${tool}`] }).output();
    if (!found.success) throw notInstalled(tool);
  }
  const rootfs = (await sh("mktemp -d /tmp/okta-hook-image-XXXXXX")).trim();
  await sh(`chmod 755 ${quote(rootfs)}
if [ -f ${BASE_CACHE} ]; then tar -xf ${BASE_CACHE} -C ${quote(rootfs)}
else
  debootstrap --variant=minbase bookworm ${quote(rootfs)} ${quote(MIRROR)} >/dev/null
  mkdir -p "$(dirname ${BASE_CACHE})"
  tar -cf ${BASE_CACHE}.part -C ${quote(rootfs)} . && mv ${BASE_CACHE}.part ${BASE_CACHE}
fi
# What the engine provides every container: name resolution (the build fetches packages).
cp /etc/resolv.conf ${quote(rootfs)}/etc/resolv.conf
# This machine reaches the registries through a TLS-inspecting proxy: its certificate authorities
# go where Debian's ca-certificates (installed by the build) takes them from, as an operator
# behind such a proxy adds them to the build (docs/deploying.md).
mkdir -p ${quote(rootfs)}/usr/local/share/ca-certificates
cp /usr/local/share/ca-certificates/*.crt ${
    quote(rootfs)
  }/usr/local/share/ca-certificates/ 2>/dev/null || true`);
  const instructions = parseDockerfile(await Deno.readTextFile(`${PROJECT}/Dockerfile`));
  let workdir = "/";
  const env: Record<string, string> = {};
  let user = "root";
  const volumes: string[] = [];
  let healthcheck: string[] = [];
  let entrypoint: string[] = [];
  let stopSignal = "SIGTERM";
  for (const { keyword, args } of instructions) {
    switch (keyword) {
      case "FROM":
        if (args !== BASE) throw new Error(`FROM ${args}: only ${BASE} is carried out here`);
        break;
      case "WORKDIR":
        workdir = args.startsWith("/") ? args : `${workdir}/${args}`;
        await sh(`mkdir -p ${quote(rootfs + workdir)}`);
        break;
      case "COPY": {
        const parts = args.split(/\s+/);
        const dest = parts.pop()!;
        const target = dest.startsWith("/") ? dest : `${workdir}/${dest}`;
        for (const source of parts) {
          // A directory's contents go into the destination, as COPY does.
          await sh(`cd ${quote(PROJECT)}
mkdir -p ${quote(rootfs + target)}
if [ -d ${quote(source)} ]; then cp -a ${quote(source)}/. ${quote(rootfs + target)}/
else cp -a ${quote(source)} ${quote(rootfs + target)}/; fi`).catch((error) => {
            throw new Error(`COPY ${source}: ${error.message}`);
          });
        }
        break;
      }
      case "RUN": {
        const argv = inImage({ rootfs, workdir, env, user } as Image, ["/bin/sh", "-c", args]);
        const output = await new Deno.Command(argv[0]!, {
          args: argv.slice(1),
          cwd: PROJECT,
          env: runEnv({ env } as Image, {}),
          clearEnv: true,
          stdout: "piped",
          stderr: "piped",
        }).output();
        if (!output.success) {
          throw new Error(`RUN ${args}: ${new TextDecoder().decode(output.stderr)}`);
        }
        break;
      }
      case "ENV":
        for (const pair of args.split(/\s+/)) {
          const eq = pair.indexOf("=");
          env[pair.slice(0, eq)] = pair.slice(eq + 1);
        }
        break;
      case "USER":
        user = args;
        break;
      case "VOLUME":
        volumes.push(args);
        break;
      case "EXPOSE":
        break;
      case "STOPSIGNAL":
        stopSignal = args;
        break;
      case "HEALTHCHECK":
        healthcheck = JSON.parse(args.slice(args.indexOf("CMD ") + 4));
        break;
      case "ENTRYPOINT":
        entrypoint = JSON.parse(args);
        break;
      default:
        throw new Error(`${keyword}: not carried out by tests/_image.ts; add it there first`);
    }
  }
  return { rootfs, workdir, env, user, volumes, healthcheck, entrypoint, stopSignal };
}

/** Removes the image's directory (after unmounting anything a run left). */
export async function removeImage(image: Image): Promise<void> {
  await sh(`umount -R ${quote(image.rootfs)}/proc 2>/dev/null || true
rm -rf --one-file-system ${quote(image.rootfs)}`);
}
