<?php
// A PHP App Engine app: one front controller for every dynamic request.

$path = parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH);

if ($path === '/env') {
    // The variables App Engine sets, as JSON.
    $vars = [];
    foreach (getenv() as $k => $v) {
        if (strpos($k, 'GAE_') === 0 || $k === 'GOOGLE_CLOUD_PROJECT' || $k === 'PORT') {
            $vars[$k] = $v;
        }
    }
    header('Content-Type: application/json');
    echo json_encode($vars, JSON_FORCE_OBJECT), "\n";
    return;
}

if ($path === '/') {
    header('Content-Type: text/plain; charset=utf-8');
    printf("%s! Service %s, instance %s.\n", getenv('GREETING'), getenv('GAE_SERVICE'), getenv('GAE_INSTANCE'));
    return;
}

// Everything else: show what the front controller was asked for.
header('Content-Type: text/plain; charset=utf-8');
printf("front controller: %s %s\n", $_SERVER['REQUEST_METHOD'], $_SERVER['REQUEST_URI']);
