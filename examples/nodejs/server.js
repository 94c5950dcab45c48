// A Node.js App Engine app: express on $PORT.
const express = require('express');

const app = express();

app.get('/', (req, res) => {
  res.type('text/plain').send(
    `${process.env.GREETING}! Service ${process.env.GAE_SERVICE}, instance ${process.env.GAE_INSTANCE}.\n`);
});

// The variables App Engine sets, as JSON.
app.get('/env', (req, res) => {
  const vars = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('GAE_') || k === 'GOOGLE_CLOUD_PROJECT' || k === 'PORT') {
      vars[k] = v;
    }
  }
  res.json(vars);
});

const port = process.env.PORT || 8080;
app.listen(port, () => console.log(`listening on :${port}`));
