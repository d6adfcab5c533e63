// A floor of the cold-start scenario: an ES module that loads commander (as installed) and nothing else: what any
// commander-based ESM command line pays before defining a single command.
import 'commander';
