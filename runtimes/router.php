<?php
// appdeck's router for PHP's built-in server (php -S). As on App Engine,
// a request for a file that exists under the document root is served as a
// static file, and every other request — including any other .php file —
// reaches the front controller with its original path and query. appdeck
// writes this file to its cache directory, behind a line that defines
// appdeck_front_controller().

function appdeck_static_file()
{
    $path = parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH);
    if (!is_string($path)) {
        return false;
    }
    $path = rawurldecode($path);
    if ($path === '' || strpos($path, '/.') !== false) {
        return false; // never hidden files such as .env or .git/
    }
    $root = realpath($_SERVER['DOCUMENT_ROOT']);
    $file = realpath($root . $path);
    return $file !== false && is_file($file)
        && strpos($file, $root . DIRECTORY_SEPARATOR) === 0
        && strtolower(pathinfo($file, PATHINFO_EXTENSION)) !== 'php';
}

if (appdeck_static_file()) {
    return false; // the built-in server sends the file itself
}
$_SERVER['SCRIPT_FILENAME'] = appdeck_front_controller();
$_SERVER['SCRIPT_NAME'] = '/' . basename(appdeck_front_controller());
$_SERVER['PHP_SELF'] = $_SERVER['SCRIPT_NAME'];
chdir(dirname(appdeck_front_controller()));
require appdeck_front_controller();
