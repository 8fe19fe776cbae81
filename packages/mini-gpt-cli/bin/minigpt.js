#!/usr/bin/env node
// The installed command; the CLI itself is compiled to dist/cli.js.
import '../dist/cli.js';
