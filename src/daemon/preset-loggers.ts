import type { Logger } from 'pino';

/** One child logger per preset (carrying its name), made on first use. */
export class PresetLoggers {
  private readonly loggers = new Map<string, Logger>();

  constructor(private readonly logger: Logger) {}

  get(name: string): Logger {
    let logger = this.loggers.get(name);
    if (!logger) {
      logger = this.logger.child({ preset: name });
      this.loggers.set(name, logger);
    }
    return logger;
  }

  forget(name: string): void {
    this.loggers.delete(name);
  }

  /** After a change of level: children keep the level they were made with. */
  clear(): void {
    this.loggers.clear();
  }
}
