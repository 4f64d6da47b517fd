/* The school e-journal's settings of the web client sao, loaded by its
   index.html after sao itself (setup/install-sao copies this file). */
Sao.config.title = 'Электронный журнал';
