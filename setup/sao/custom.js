/* The school e-journal's settings of the web client sao, loaded by its
   index.html after sao itself (setup/install-sao copies this file). */
Sao.config.title = 'Электронный журнал';

(function() {
    'use strict';
    // sao 8.0 titles its preferences dialog with an untranslated string
    var init = Sao.Dialog.prototype.init;
    Sao.Dialog.prototype.init = function(title) {
        var args = Array.prototype.slice.call(arguments);
        if (title === 'Preferences') {
            args[0] = Sao.i18n.gettext('Preferences');
        }
        return init.apply(this, args);
    };
}());
