// Reads a Dockerfile into the facts the infrastructure tests check: the stages and their
// base images, what each stage copies and runs, and the user, entrypoint, command and
// healthcheck of the final stage. Pure: text in, facts out (parsing by dockerfile-ast).
import { DockerfileParser, ModifiableInstruction } from 'dockerfile-ast';

/** One COPY or ADD: `from` is the stage (or image) of `--from=`, null for the build context. */
export interface DockerfileCopy {
  readonly from: string | null;
  readonly sources: readonly string[];
  readonly destination: string;
  readonly line: number;
}

export interface DockerfileStage {
  /** `AS name`, or null for an unnamed stage. */
  readonly name: string | null;
  /** The base image with build-arg defaults substituted (`${NODE_IMAGE}` -> `node:20-bookworm-slim`). */
  readonly image: string;
  readonly copies: readonly DockerfileCopy[];
  /** Each RUN's command as written (continuations joined). */
  readonly runs: readonly string[];
  /** The last USER of the stage, or null (root). */
  readonly user: string | null;
  /** Exec-form ENTRYPOINT, CMD and HEALTHCHECK CMD; null when absent or in shell form. */
  readonly entrypoint: readonly string[] | null;
  readonly cmd: readonly string[] | null;
  readonly healthcheck: readonly string[] | null;
}

export interface DockerfileFacts {
  /** Build args declared before the first FROM, with their defaults. */
  readonly args: Readonly<Record<string, string>>;
  readonly stages: readonly DockerfileStage[];
}

/** Parses `text` (the content of a Dockerfile). Throws when a JSON (exec) form is malformed. */
export function readDockerfile(text: string): DockerfileFacts {
  const parsed = DockerfileParser.parse(text);
  const args: Record<string, string> = {};
  const stages: MutableStage[] = [];

  for (const instruction of parsed.getInstructions()) {
    const keyword = instruction.getKeyword();
    const line = instruction.getRange().start.line + 1;
    const content = instruction.getArgumentsContent() ?? '';
    const words = instruction.getArguments().map((a) => a.getValue());

    if (keyword === 'ARG' && stages.length === 0) {
      const [name, value = ''] = content.trim().split(/=(.*)/s);
      if (name) args[name] = value;
      continue;
    }
    if (keyword === 'FROM') {
      const image = (words[0] ?? '').replace(/\$\{?(\w+)\}?/g, (_, arg: string) => args[arg] ?? `\${${arg}}`);
      const asIndex = words.findIndex((w) => w.toUpperCase() === 'AS');
      stages.push({
        name: asIndex >= 0 ? (words[asIndex + 1] ?? null) : null,
        image,
        copies: [],
        runs: [],
        user: null,
        entrypoint: null,
        cmd: null,
        healthcheck: null,
      });
      continue;
    }
    const stage = stages.at(-1);
    if (!stage) throw new Error(`Dockerfile line ${line}: ${keyword} before the first FROM.`);

    switch (keyword) {
      case 'COPY':
      case 'ADD': {
        const flags = instruction instanceof ModifiableInstruction ? instruction.getFlags() : [];
        const from = flags.find((f) => f.getName() === 'from')?.getValue() ?? null;
        const paths = words.filter((w) => !w.startsWith('--'));
        stage.copies.push({ from, sources: paths.slice(0, -1), destination: paths.at(-1) ?? '', line });
        break;
      }
      case 'RUN':
        stage.runs.push(
          content
            .replace(/\\\r?\n/g, ' ')
            .replace(/\s+/g, ' ')
            .trim(),
        );
        break;
      case 'USER':
        stage.user = words[0] ?? null;
        break;
      case 'ENTRYPOINT':
        stage.entrypoint = execForm(content, line);
        break;
      case 'CMD':
        stage.cmd = execForm(content, line);
        break;
      case 'HEALTHCHECK': {
        const command = /\bCMD\s+([\s\S]*)$/.exec(content.replace(/\\\r?\n/g, ' '))?.[1];
        stage.healthcheck = command === undefined ? null : execForm(command, line);
        break;
      }
    }
  }
  return { args, stages };
}

type MutableStage = { -readonly [K in keyof DockerfileStage]: DockerfileStage[K] } & { copies: DockerfileCopy[]; runs: string[] };

/** The argv of an exec-form (`["a", "b"]`) instruction; null for the shell form. */
function execForm(content: string, line: number): string[] | null {
  const trimmed = content.trim();
  if (!trimmed.startsWith('[')) return null;
  try {
    const value: unknown = JSON.parse(trimmed);
    if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value;
  } catch {
    // reported below
  }
  throw new Error(`Dockerfile line ${line}: ${trimmed} is not a JSON array of strings; Docker would run it through a shell.`);
}
