import { Command, InvalidArgumentError, Option } from 'commander';
import { normalizeLogLevel } from '../config/config-schema.js';
import { ConfigErrors } from '../daemon/daemon.js';
import { ShepherdError } from '../errors/shepherd-error.js';
import { VERSION } from '../version.js';
import { apiTarget } from './api-client.js';
import { checkCommand } from './commands/check.js';
import { driversCommand } from './commands/drivers.js';
import { planCommand } from './commands/plan.js';
import { renderCommand } from './commands/render.js';
import { runCommand } from './commands/run.js';
import { simulatorCommand } from './commands/simulator.js';
import { tasksCommand, vmCommand } from './commands/vm.js';
import { errorLine, type OutputFormat, printErr } from './output.js';

const outputOption = () =>
  new Option('--output <format>', 'text or json').choices(['text', 'json']).default('text');
const configOption = () =>
  new Option('-c, --config-file <file>', 'main configuration file (YAML)').makeOptionMandatory();

function logLevel(value: string) {
  const level = normalizeLogLevel(value);
  if (!level) throw new InvalidArgumentError('expected trace, debug, info, warning, error or critical');
  return level;
}

function port(value: string) {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('expected a port number');
  return n;
}

/** Runs a command's promise to its exit code. */
type Done = (code: Promise<number>) => Promise<void>;

export function buildProgram(exit: (code: number) => void): Command {
  const program = new Command('vmshepherd')
    .description('Keeps groups of VMs (presets) the way their owners declared them.')
    .version(VERSION)
    .showHelpAfterError();
  const done: Done = (code) => code.then(exit, (err) => exit(reportFatal(err)));

  addConfigCommands(program, done);
  addApiCommands(program, done);
  addSimulatorCommand(program, done);
  return program;
}

function reportFatal(err: unknown): number {
  if (err instanceof ConfigErrors) {
    for (const e of err.errors) printErr(errorLine(e));
    printErr(`${err.errors.length} error(s) in the configuration`);
  } else if (err instanceof ShepherdError) {
    printErr(errorLine(err));
  } else {
    printErr(`error cli_run_1001: ${(err as Error)?.stack ?? String(err)}`);
  }
  return 1;
}

export async function main(argv = process.argv): Promise<void> {
  const program = buildProgram((code) => {
    process.exitCode = code;
  });
  program.exitOverride((err) => {
    process.exit(err.exitCode);
  });
  await program.parseAsync(argv);
}

/** The commands that read a configuration file: run, check, plan, render, drivers. */
function addConfigCommands(program: Command, done: Done): void {
  program
    .command('run', { isDefault: true })
    .description('run the daemon (the default command)')
    .addOption(configOption())
    .option('-l, --log-level <level>', 'overrides log_level of the file', logLevel)
    .option('-p, --port <port>', 'overrides http.listen_port of the file', port)
    .option('-1, --run-once', 'run one manage cycle and exit')
    .action((o) =>
      done(
        runCommand(
          o.configFile,
          {
            ...(o.logLevel ? { logLevel: o.logLevel } : {}),
            ...(o.port !== undefined ? { port: o.port } : {}),
          },
          Boolean(o.runOnce),
        ),
      ),
    );

  program
    .command('check')
    .description('validate the configuration and every preset; exit 1 listing all errors')
    .addOption(configOption())
    .addOption(outputOption())
    .option('--strict', 'warnings are errors too (as `strict: true` in the file), e.g. for CI')
    .action((o) => done(checkCommand(o.configFile, o.output as OutputFormat, Boolean(o.strict))));

  program
    .command('plan')
    .description('print what one cycle would do, touching nothing')
    .addOption(configOption())
    .option('--preset <name>', 'only this preset')
    .addOption(outputOption())
    .action((o) => done(planCommand(o.configFile, o.preset, o.output as OutputFormat)));

  program
    .command('render')
    .description("print a preset's rendered userdata")
    .addOption(configOption())
    .requiredOption('--preset <name>', 'the preset')
    .action((o) => done(renderCommand(o.configFile, o.preset)));

  program
    .command('drivers')
    .description('list every resolvable driver with its kind and origin')
    .option('-c, --config-file <file>', 'also find plugins installed next to this configuration')
    .addOption(outputOption())
    .action((o) => done(driversCommand(o.configFile, o.output as OutputFormat)));
}

/** The commands that ask a running daemon through its API: vm, tasks. */
function addApiCommands(program: Command, done: Done): void {
  const apiOptions = (c: Command) =>
    c
      .option('--url <url>', 'the daemon API (default VMSHEPHERD_URL or http://127.0.0.1:8888)')
      .option('--token <token>', 'bearer token (default VMSHEPHERD_TOKEN)')
      .addOption(outputOption());

  apiOptions(
    program
      .command('vm')
      .description('run a verb on a VM through the API: quiesce, restart, scrub, restore, update')
      .argument('<verb>', 'quiesce, restart, scrub, restore or update')
      .argument('<preset>', 'the preset the VM belongs to')
      .argument('<vm-id>', 'the VM id')
      .option('--wait', 'follow the task until it is done or failed')
      .option(
        '--idempotency-key <key>',
        'a key of this request: asking again with it (from any instance) answers with the same task',
      ),
  ).action((verb: string, preset: string, vmId: string, o) =>
    done(
      vmCommand(
        verb,
        preset,
        vmId,
        apiTarget(o),
        o.output as OutputFormat,
        Boolean(o.wait),
        o.idempotencyKey,
      ),
    ),
  );

  apiOptions(
    program
      .command('tasks')
      .description(
        'list the verbs requested on VMs through any instance, newest first, or show one task with its steps',
      )
      .argument('[task-id]', 'show this task')
      .option('--preset <name>', 'only this preset')
      .option('--active', 'only queued and running tasks')
      .option('--cancel', 'cancel the task (while it is queued or waiting for the disruption budget)'),
  ).action((id: string | undefined, o) =>
    done(
      tasksCommand(
        { preset: o.preset, active: Boolean(o.active), id, cancel: Boolean(o.cancel) },
        apiTarget(o),
        o.output as OutputFormat,
      ),
    ),
  );
}

function addSimulatorCommand(program: Command, done: Done): void {
  program
    .command('simulator')
    .description(
      'serve one simulated cloud over HTTP, shared by DummyIaasDriver `endpoint` of several daemons',
    )
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'port to listen on (0: any free port)', port, 8780)
    .option('--options <yaml>', 'DummyIaasDriver options, e.g. "{latency: 0.05, boot_time: 2}"')
    .option(
      '--token <token>',
      'token clients must send (default: VMSHEPHERD_SIMULATOR_TOKEN, else a new one)',
    )
    .action((o) =>
      done(
        simulatorCommand({
          host: o.host,
          port: o.port,
          ...(o.options ? { options: o.options } : {}),
          ...(o.token ? { token: o.token } : {}),
        }),
      ),
    );
}
