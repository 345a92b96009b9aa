/**
 * Progress over a whole benchmark matrix. On a terminal: one cli-progress bar on stderr (runs done
 * of all, ETA, what runs now), with each finished run's line printed above it. Elsewhere (CI, a
 * pipe, a file): plain `[done/total] line` lines, no control characters.
 */
import { MultiBar, type SingleBar } from 'cli-progress';

export interface Progress {
  /** Says what runs now (shown on the bar; nothing is printed without one). */
  starting(what: string): void;
  /** One run finished: prints its line and moves the bar. */
  done(line: string): void;
  /** Removes the bar (the lines stay). */
  stop(): void;
}

export function createProgress(
  total: number,
  stream: NodeJS.WriteStream = process.stderr,
  tty: boolean = stream.isTTY === true,
): Progress {
  let finished = 0;
  if (!tty) {
    return {
      starting() {},
      done(line) {
        finished += 1;
        stream.write(`[${finished}/${total}] ${line}\n`);
      },
      stop() {},
    };
  }
  const bars = new MultiBar({
    stream,
    format: ' {bar} {value}/{total} runs | {percentage}% | ETA {eta_formatted} | {what}',
    barCompleteChar: '█',
    barIncompleteChar: '░',
    hideCursor: true,
    clearOnComplete: true,
    etaBuffer: 20,
  });
  const bar: SingleBar = bars.create(total, 0, { what: '' });
  return {
    starting(what) {
      bar.update({ what });
    },
    done(line) {
      finished += 1;
      bars.log(`[${finished}/${total}] ${line}\n`);
      bar.increment(1);
    },
    stop() {
      bars.stop();
    },
  };
}
